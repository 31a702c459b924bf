import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { checkConfigText } from '../../src/config';
import type { Env } from '../../src/config/env';
import { formatProblemsText } from '../../src/config/errors';
import type { GatewayConfig } from '../../src/config/types';
import { createLogger } from '../../src/observability/logger';
import { GatewayServer } from '../../src/server/gateway-server';

/** A resolved config from YAML text, failing loudly (with the lint output) when it is invalid. */
export function configFrom(yamlText: string, env: Env = {}): GatewayConfig {
  const result = checkConfigText('test.yaml', yamlText, env);
  if (!result.config) throw new Error(`test config is invalid:\n${formatProblemsText(result.problems)}`);
  return result.config;
}

export interface RunningGateway {
  server: GatewayServer;
  url: string;
  port: number;
  /** Every JSON log line the gateway wrote so far. */
  logs(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Starts a real gateway on an ephemeral loopback port, logging into memory. */
export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const server = new GatewayServer(config, createLogger('debug', stream));
  const address: AddressInfo = await server.listen(0, '127.0.0.1');
  return {
    server,
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: () => server.stop(2_000),
  };
}
