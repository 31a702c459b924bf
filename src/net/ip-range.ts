import { BlockList, isIP } from 'node:net';

/** Named ranges accepted wherever a CIDR list is (trustProxy, ipFilter). */
export const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** undefined when `entry` is a valid address, CIDR or named range; else why it is not. */
export function checkRangeEntry(entry: string): string | undefined {
  if (NAMED_RANGES[entry]) return undefined;
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) {
    return `"${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32) nor one of ${Object.keys(NAMED_RANGES).join(', ')}`;
  }
  if (prefix !== undefined) {
    const max = family === 4 ? 32 : 128;
    if (!/^\d+$/.test(prefix) || Number(prefix) > max) return `"${entry}" has a prefix length outside 0-${max}`;
  }
  return undefined;
}

/** IPv4-mapped IPv6 clients (::ffff:1.2.3.4) are matched as the IPv4 address they are. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** A set of address ranges; `has` answers for IPv4 and IPv6 client addresses. */
export class IpRangeSet {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(entries: string[]) {
    this.empty = entries.length === 0;
    for (const entry of entries.flatMap((e) => NAMED_RANGES[e] ?? [e])) {
      const [address, prefix] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(prefix), type);
    }
  }

  has(address: string): boolean {
    const a = normalizeAddress(address);
    const family = isIP(a);
    if (family === 0) return false;
    return this.list.check(a, family === 6 ? 'ipv6' : 'ipv4');
  }
}
