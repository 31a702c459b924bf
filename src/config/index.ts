import { ConfigError, ConfigProblem, hasErrors } from './errors';
import { Env, applyEnvOverrides, interpolate } from './env';
import { parseConfigText, readConfigFile } from './load';
import { resolveConfig } from './resolve';
import { validateAgainstSchema } from './validate';
import { checkSemantics } from './checks';
import { GatewayConfig } from './types';

export interface ConfigCheck {
  file: string;
  /** The resolved config; present only when there is no error. */
  config?: GatewayConfig;
  problems: ConfigProblem[];
}

/**
 * The whole path from text to a usable config: parse → interpolate ${VAR} → environment overrides →
 * schema → defaults → semantic checks. Every problem of every step is returned, sorted by position.
 */
export function checkConfigText(file: string, text: string, env: Env): ConfigCheck {
  let loaded;
  try {
    loaded = parseConfigText(file, text);
  } catch (err) {
    if (err instanceof ConfigError) return { file, problems: err.problems };
    throw err;
  }
  const { document, sourceMap } = loaded;
  if (document === null || document === undefined) {
    return {
      file,
      problems: [{ file, line: 1, column: 1, severity: 'error', pointer: '', message: 'the file is empty; it needs at least version: 1, services and routes' }],
    };
  }
  const unresolved = interpolate(document, env, file, sourceMap);
  // A value still holding an unset ${VAR} would also fail every later check; report it once.
  const unresolvedAt = new Set(unresolved.map((p) => p.pointer));
  const later = [
    ...applyEnvOverrides(document, env, file, sourceMap),
    ...validateAgainstSchema(document, file, sourceMap),
  ];
  const config = resolveConfig(document);
  later.push(...checkSemantics(config, file, sourceMap));
  const problems = [...unresolved, ...later.filter((p) => !unresolvedAt.has(p.pointer))];
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { file, problems, config: hasErrors(problems) ? undefined : config };
}

export function checkConfigFile(file: string, env: Env): ConfigCheck {
  return checkConfigText(file, readConfigFile(file), env);
}

/** The config to run with; throws ConfigError listing every problem when there is any error. */
export function loadGatewayConfig(file: string, env: Env): { config: GatewayConfig; warnings: ConfigProblem[] } {
  const result = checkConfigFile(file, env);
  if (!result.config) throw new ConfigError(result.problems);
  return { config: result.config, warnings: result.problems };
}
