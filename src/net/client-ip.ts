import { IpRangeSet, normalizeAddress } from './ip-range';

/**
 * Which hop of X-Forwarded-For is the client. Only proxies we trust may add entries we believe:
 * walking the header from the right, the first address that is not a trusted proxy is the client.
 * An untrusted peer's header is ignored completely, so a client cannot spoof its address.
 */
export class ClientIpResolver {
  private readonly trusted?: IpRangeSet;
  private readonly hops: number;

  constructor(trustProxy: number | string[]) {
    if (typeof trustProxy === 'number') {
      this.hops = trustProxy;
    } else {
      this.hops = -1;
      this.trusted = new IpRangeSet(trustProxy);
    }
  }

  /** Whether the direct peer is a proxy whose forwarding headers we believe. */
  trustsPeer(peer: string): boolean {
    return this.trusted ? this.trusted.has(peer) : this.hops > 0;
  }

  resolve(peer: string | undefined, forwardedFor: string | string[] | undefined): string {
    const direct = normalizeAddress(peer ?? '');
    if (forwardedFor === undefined || !this.trustsPeer(direct)) return direct;
    const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
      .split(',')
      .map((s) => normalizeAddress(s.trim()))
      .filter(Boolean);
    if (this.trusted) {
      for (let i = chain.length - 1; i >= 0; i--) if (!this.trusted.has(chain[i])) return chain[i];
      return chain[0] ?? direct;
    }
    // A hop count: the peer is hop 1, the right-most header entry hop 2, and so on.
    const index = chain.length - this.hops;
    return chain[Math.max(0, index)] ?? direct;
  }
}
