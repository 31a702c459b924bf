import { createLogger, LOG_LEVELS } from '../observability/logger';
import { GatewayServer } from '../server/gateway-server';
import { cliEnv, EXIT, loadOrExit, routesFile } from './context';

/** Serves until SIGTERM/SIGINT, then drains in-flight requests and exits 0. */
export async function startGateway(configFile?: string): Promise<GatewayServer> {
  const env = cliEnv();
  const level = (env.LOG_LEVEL ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    process.stderr.write(`LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)} must be one of ${LOG_LEVELS.join(', ')}; fix or unset LOG_LEVEL\n`);
    process.exit(EXIT.usage);
  }
  const file = routesFile(configFile, env);
  const config = loadOrExit(file, env);
  const logger = createLogger(level);
  const server = new GatewayServer(config, logger);
  try {
    await server.listen();
  } catch (err) {
    logger.error('cannot listen', { error: (err as Error).message, host: config.gateway.host, port: config.gateway.port });
    process.exit(EXIT.invalid);
  }
  const shutdown = (signal: string) => {
    logger.info('shutdown requested', { signal });
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
