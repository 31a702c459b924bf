import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { ClusterPrimary } from '../cluster/primary';
import { runWorker } from '../cluster/worker';
import { createLogger, LOG_LEVELS } from '../observability/logger';
import { GatewayServer } from '../server/gateway-server';
import { readConfigFile } from '../config/load';
import { ConfigReloader } from '../reload/reloader';
import { ConfigWatcher } from '../reload/watcher';
import { cliEnv, EXIT, loadOrExit, routesFile } from './context';

/**
 * Lint accepted the config, so compiling it should not fail; if it does, the operator still gets
 * the file, a position and exit 1 (an invalid config), never a bare stack trace with exit 2.
 */
function compileOrExit<T>(file: string, compile: () => T): T {
  try {
    return compile();
  } catch (err) {
    process.stderr.write(
      `${file}:1:1 error: the gateway cannot be built from this config: ${err instanceof Error ? err.message : String(err)}; \`tracseq-gateway lint ${file}\` accepts it, so please report this together with the file\n`,
    );
    process.exit(EXIT.invalid);
  }
}

/**
 * Serves until SIGTERM/SIGINT, then drains in-flight requests and exits 0. The routes file is
 * reloaded when it changes, on SIGHUP, and on POST /admin/reload (when ADMIN_TOKEN is set).
 * With gateway.workers above 1 this process becomes the cluster's primary and the same command,
 * forked, its workers; the server is then in the workers and undefined is returned.
 */
export async function startGateway(configFile?: string, envFile?: string): Promise<GatewayServer | undefined> {
  const env = cliEnv(envFile);
  const level = (env.LOG_LEVEL ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    process.stderr.write(`LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)} must be one of ${LOG_LEVELS.join(', ')}; fix or unset LOG_LEVEL\n`);
    process.exit(EXIT.usage);
  }
  const file = routesFile(configFile, env);
  if (cluster.isWorker) {
    runWorker(createLogger(level), { adminToken: env.ADMIN_TOKEN || undefined, routesFile: file });
    return undefined;
  }
  const config = loadOrExit(file, env);
  const logger = createLogger(level);
  const workers = config.gateway.workers === 'auto' ? availableParallelism() : config.gateway.workers;
  if (workers > 1) {
    new ClusterPrimary(file, () => cliEnv(envFile), config, logger, workers).start();
    return undefined;
  }
  const server = compileOrExit(file, () => new GatewayServer(config, logger, { adminToken: env.ADMIN_TOKEN || undefined }));
  const reloader = new ConfigReloader(file, () => cliEnv(envFile), { current: () => server.current.config, swap: (c) => server.swap(c) }, logger, readConfigFile(file));
  server.attachReloader(reloader);
  const watcher = new ConfigWatcher(file, () => void reloader.reload('file'));
  // Signals are handled from before the port opens: a SIGTERM that arrives as the gateway starts
  // still gets a graceful stop, never node's default exit.
  process.on('SIGHUP', () => void reloader.reload('signal', true));
  const shutdown = (signal: string) => {
    logger.info('shutdown requested', { signal });
    watcher.stop();
    server.stop().then(
      () => process.exit(EXIT.ok),
      (err) => {
        logger.error('shutdown failed', { error: String(err) });
        process.exit(EXIT.invalid);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  try {
    await server.listen();
    await server.listenManagement();
  } catch (err) {
    const g = config.gateway;
    logger.error('cannot listen', { error: (err as Error).message, host: g.host, port: g.port, managementPort: g.managementPort });
    process.exit(EXIT.invalid);
  }
  watcher.start();
  return server;
}
