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
    process.stderr.write(`${file}:1:1 error: the gateway cannot be built from this config: ${err instanceof Error ? err.message : String(err)}; \`tracseq-gateway lint ${file}\` accepts it, so please report this together with the file\n`);
    process.exit(EXIT.invalid);
  }
}

/**
 * Serves until SIGTERM/SIGINT, then drains in-flight requests and exits 0. The routes file is
 * reloaded when it changes, on SIGHUP, and on POST /admin/reload (when ADMIN_TOKEN is set).
 */
export async function startGateway(configFile?: string, envFile?: string): Promise<GatewayServer> {
  const env = cliEnv(envFile);
  const level = (env.LOG_LEVEL ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    process.stderr.write(`LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)} must be one of ${LOG_LEVELS.join(', ')}; fix or unset LOG_LEVEL\n`);
    process.exit(EXIT.usage);
  }
  const file = routesFile(configFile, env);
  const config = loadOrExit(file, env);
  const logger = createLogger(level);
  const server = compileOrExit(file, () => new GatewayServer(config, logger, { adminToken: env.ADMIN_TOKEN || undefined }));
  const reloader = new ConfigReloader(file, () => cliEnv(envFile), { current: () => server.current.config, swap: (c) => server.swap(c) }, logger, readConfigFile(file));
  server.attachReloader(reloader);
  const watcher = new ConfigWatcher(file, () => void reloader.reload('file'));
  try {
    await server.listen();
  } catch (err) {
    logger.error('cannot listen', { error: (err as Error).message, host: config.gateway.host, port: config.gateway.port });
    process.exit(EXIT.invalid);
  }
  watcher.start();
  void reloader.warmUp();
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
  return server;
}
