import { IpRangeSet, normalizeAddress } from './ip-range';

/**
 * Which hop of X-Forwarded-For is the client. Only proxies we trust may add entries we believe:
 * walking the header from the right, the first address that is not a trusted proxy is the client.
 * An untrusted peer's header is ignored completely, so a client cannot spoof its address.
 */
export class ClientIpResolver {
  private readonly trusted?: IpRangeSet;
  private readonly hops: number;
  /** Peer addresses repeat (keep-alive, a few proxies); their verdict is kept, up to a bound. */
  private readonly verdicts = new Map<string, boolean>();

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
    if (!this.trusted) return this.hops > 0;
    let verdict = this.verdicts.get(peer);
    if (verdict === undefined) {
      verdict = this.trusted.has(peer);
      if (this.verdicts.size >= 10_000) this.verdicts.clear();
      this.verdicts.set(peer, verdict);
    }
    return verdict;
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
