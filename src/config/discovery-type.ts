/** The record type a discovery block looks up: `auto` is SRV for a name that starts with `_`, else A. */
export function discoveryRecordType(type: unknown, dns: string): 'A' | 'AAAA' | 'SRV' {
  if (type === 'A' || type === 'AAAA' || type === 'SRV') return type;
  return dns.startsWith('_') ? 'SRV' : 'A';
}
