import { Pool } from 'undici';
import type { ServiceConfig } from '../config/types';
import { Balancer, createBalancer } from './balancer';

/** One instance of an upstream service, with its keep-alive connection pool. */
export class UpstreamInstance {
  readonly origin: string;
  readonly url: string;
  readonly weight: number;
  inFlight = 0;
  private poolInstance: Pool | undefined;

  constructor(url: string, weight: number, private readonly connections: number) {
    this.url = url;
    this.origin = new URL(url).origin;
    this.weight = weight;
  }

  /** Created on first use: a gateway whose upstream is never called opens no sockets. */
  get pool(): Pool {
    this.poolInstance ??= new Pool(this.origin, {
      connections: this.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: 5_000 },
    });
    return this.poolInstance;
  }

  available(): boolean {
    return true;
  }

  async close(): Promise<void> {
    const pool = this.poolInstance;
    this.poolInstance = undefined;
    if (pool) await pool.close().catch(() => pool.destroy());
  }
}

export class UpstreamService {
  readonly instances: UpstreamInstance[];
  readonly balancer: Balancer<UpstreamInstance>;

  constructor(
    readonly name: string,
    readonly config: ServiceConfig,
    loadBalancingEnabled: boolean,
  ) {
    this.instances = config.instances.map((i) => new UpstreamInstance(i.url, i.weight, config.connections));
    this.balancer = createBalancer(config.loadBalancer, this.instances, loadBalancingEnabled);
  }

  async close(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.close()));
  }
}
