import dns2 from 'dns2';

const { Packet } = dns2;

export interface AddressRecord {
  address: string;
  ttl?: number;
}

export interface SrvRecord {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
  ttl?: number;
}

/** What the server answers for one name: records, or a failure code. */
export interface Zone {
  A?: AddressRecord[];
  AAAA?: AddressRecord[];
  SRV?: SrvRecord[];
  /** NXDOMAIN (3) or SERVFAIL (2) instead of records. */
  rcode?: number;
}

export const NXDOMAIN = 3;
export const SERVFAIL = 2;

/**
 * A real DNS server on a loopback UDP port whose answers the test changes as it goes: the
 * gateway's resolver is pointed at it with gateway.dnsServers. A name it holds no zone for is
 * NXDOMAIN; `silent` makes it stop answering at all (the resolver then times out).
 */
export class TestDnsServer {
  readonly zones = new Map<string, Zone>();
  silent = false;
  /** Queries received per name and type, e.g. "samples.lab.test A". */
  readonly queries = new Map<string, number>();
  private server: ReturnType<typeof dns2.createServer> | undefined;
  port = 0;

  set(name: string, zone: Zone): void {
    this.zones.set(name.toLowerCase(), zone);
  }

  queriesOf(name: string, type: string): number {
    return this.queries.get(`${name.toLowerCase()} ${type}`) ?? 0;
  }

  async start(): Promise<number> {
    this.server = dns2.createServer({
      udp: true,
      handle: (request, send) => {
        const [question] = request.questions;
        const name = question.name.toLowerCase();
        const type = Object.keys(Packet.TYPE).find((k) => (Packet.TYPE as Record<string, number>)[k] === question.type) ?? String(question.type);
        const key = `${name} ${type}`;
        this.queries.set(key, (this.queries.get(key) ?? 0) + 1);
        if (this.silent) return;
        const response = Packet.createResponseFromRequest(request);
        // dns2 types its records as decoded Resource objects; plain objects are what it encodes.
        const answers = response.answers as unknown as Record<string, unknown>[];
        const zone = this.zones.get(name);
        if (zone === undefined) {
          response.header.rcode = NXDOMAIN;
        } else if (zone.rcode !== undefined) {
          response.header.rcode = zone.rcode;
        } else if (question.type === Packet.TYPE.A) {
          for (const r of zone.A ?? []) answers.push({ name: question.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: r.ttl ?? 30, address: r.address });
        } else if (question.type === Packet.TYPE.AAAA) {
          for (const r of zone.AAAA ?? []) answers.push({ name: question.name, type: Packet.TYPE.AAAA, class: Packet.CLASS.IN, ttl: r.ttl ?? 30, address: r.address });
        } else if (question.type === Packet.TYPE.SRV) {
          for (const r of zone.SRV ?? []) {
            answers.push({ name: question.name, type: Packet.TYPE.SRV, class: Packet.CLASS.IN, ttl: r.ttl ?? 30, priority: r.priority ?? 10, weight: r.weight ?? 1, port: r.port, target: r.target });
          }
        }
        void send(response);
      },
    });
    await this.server.listen({ udp: { port: 0, address: '127.0.0.1' } });
    this.port = this.server.addresses().udp?.port ?? 0;
    return this.port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    await this.server?.close();
  }
}
