import { existsSync, statSync } from 'node:fs';
import { environmentWithDotEnv, Env } from '../config/env';
import { ConfigError, formatProblemsText } from '../config/errors';
import { loadGatewayConfig } from '../config';
import type { GatewayConfig } from '../config/types';
import { UnreadableFileError } from '../config/load';

/**
 * What every command shares: the environment and the routes file it names. The environment is the
 * process's own over a `.env` file (when present), or over `envFile` (`--env-from`, which must
 * exist): a variable set in the real environment always wins.
 */
export function cliEnv(envFile?: string): Env {
  if (envFile === undefined) return environmentWithDotEnv(process.env);
  if (!isReadableFile(envFile)) {
    process.stderr.write(`${envFile}: cannot read the env file: ${existsSync(envFile) ? 'it is not a file' : 'no such file'}\n`);
    process.exit(EXIT.usage);
  }
  return environmentWithDotEnv(process.env, envFile);
}

export function isReadableFile(file: string): boolean {
  return existsSync(file) && statSync(file).isFile();
}

export function routesFile(explicit: string | undefined, env: Env): string {
  return explicit ?? env.ROUTES_FILE ?? 'routes.yaml';
}

/** Exit codes shared by the commands: 0 fine, 1 invalid config, 2 unreadable file or bad usage. */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

/** Loads the config for a command, or prints why it cannot and exits with the documented code. */
export function loadOrExit(file: string, env: Env): GatewayConfig {
  try {
    const { config, warnings } = loadGatewayConfig(file, env);
    if (warnings.length) process.stderr.write(formatProblemsText(warnings) + '\n');
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${formatProblemsText(err.problems)}\n${file}: invalid configuration; fix the errors above (\`tracseq-gateway lint ${file}\` checks it)\n`);
      process.exit(EXIT.invalid);
    }
    if (err instanceof UnreadableFileError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT.usage);
    }
    throw err;
  }
}
