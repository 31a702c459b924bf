import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/observability/logger';
import { ConfigReloader } from '../../src/reload/reloader';
import { GatewayServer } from '../../src/server/gateway-server';
import { configFrom } from './gateway';
import type { Env } from '../../src/config/env';

export interface ReloadableGateway {
  server: GatewayServer;
  reloader: ConfigReloader;
  url: string;
  dir: string;
  file: string;
  write(text: string): void;
  logs(): Record<string, unknown>[];
  stop(): Promise<void>;
}

/** A real gateway serving a routes file in a fresh temp folder, with a reloader attached to it. */
export async function startReloadable(initial: string, options: { adminToken?: string; env?: () => Env } = {}): Promise<ReloadableGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-reload-'));
  const file = join(dir, 'routes.yaml');
  writeFileSync(file, initial);
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
  const logger = createLogger('info', stream);
  const server = new GatewayServer(configFrom(initial), logger, options);
  const reloader = new ConfigReloader(file, options.env ?? (() => ({})), { current: () => server.current.config, swap: (c) => server.swap(c) }, logger, initial);
  server.attachReloader(reloader);
  const address: AddressInfo = await server.listen(0, '127.0.0.1');
  // The checking thread starts once per test file; tests that time reloads should not time that.
  await reloader.warmUp();
  return {
    server,
    reloader,
    url: `http://127.0.0.1:${address.port}`,
    dir,
    file,
    write: (text) => writeFileSync(file, text),
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: () => server.stop(2000),
  };
}
