import { ConfigError, ConfigProblem, hasErrors } from './errors';
import { Env, applyEnvOverrides, interpolate } from './env';
import { parseConfigText, readConfigFile } from './load';
import { resolveConfig } from './resolve';
import { validateAgainstSchema } from './validate';
import { checkSemantics } from './checks';
import { checkBounds } from './bounds';
import { GatewayConfig, TransformPolicy } from './types';
import { resolveEnvPlaceholders } from './placeholders';
import { switchOnWrittenPolicies } from './policy-switches';
import { checkInertPolicies } from './inert-policies';
import { keyPlaceholders, settleUnsetSecrets, UnsetSecrets } from './unset-secrets';

/** `${env.NAME}` in transform values is filled in once, here, with the environment the config was loaded with. */
function resolveTransformEnv(config: GatewayConfig, env: Env): void {
  const fill = (values: Record<string, string> | undefined) => {
    if (!values || typeof values !== 'object') return;
    for (const k of Object.keys(values)) if (typeof values[k] === 'string') values[k] = resolveEnvPlaceholders(values[k], env);
  };
  const each = (t: TransformPolicy | undefined) => {
    fill(t?.request?.headers?.set);
    fill(t?.request?.headers?.add);
    fill(t?.request?.query?.set);
    fill(t?.response?.headers?.set);
    fill(t?.response?.headers?.add);
  };
  each(config.defaults?.transform);
  if (Array.isArray(config.routes)) for (const r of config.routes) if (r && typeof r === 'object') each(r.transform);
}

/**
 * The largest routes file read: 40,000 routes fit in a few MiB; beyond this a file is a mistake
 * (a log or a binary saved over it), and checking it would only take time and memory.
 */
export const MAX_FILE_CHARS = 16 * 1024 * 1024;

/**
 * A message quotes the value it is about; a 1 MB value would make a 1 MB line in lint's output
 * and in the reload log. Long quoted values keep their start and say how long they were.
 */
function shortenQuotedValues(message: string): string {
  if (message.length <= 400) return message;
  return message.replace(/"((?:[^"\\]|\\.){60,})"/g, (_, inner: string) => `"${inner.slice(0, 40)}…" (${inner.length.toLocaleString('en-US')} characters)`);
}

export interface CheckOptions {
  /** `error` (what `start` and a reload do) or `warning` (what `lint` does without --strict). */
  unsetSecrets?: UnsetSecrets;
  /**
   * false: the file as written plus defaults; the documented environment overrides are not
   * applied and placeholders take their written defaults (what `diff` compares).
   */
  environment?: boolean;
}

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
export function checkConfigText(file: string, text: string, givenEnv: Env, options: CheckOptions = {}): ConfigCheck {
  const env = options.environment === false ? {} : givenEnv;
  if (text.length > MAX_FILE_CHARS) {
    const message = `the file holds ${text.length.toLocaleString('en-US')} characters, more than a routes file may (${MAX_FILE_CHARS.toLocaleString('en-US')}); is it the right file?`;
    return { file, problems: [{ file, line: 1, column: 1, severity: 'error', pointer: '', message }] };
  }
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
  const placeholders = keyPlaceholders(document);
  const unresolved = interpolate(document, env, file, sourceMap);
  // A value still holding an unset ${VAR} would also fail every later check; report it once.
  const unresolvedAt = new Set(unresolved.map((p) => p.pointer));
  switchOnWrittenPolicies(document);
  const later = [...applyEnvOverrides(document, env, file, sourceMap), ...validateAgainstSchema(document, file, sourceMap), ...checkBounds(document, file, sourceMap)];
  const config = resolveConfig(document);
  resolveTransformEnv(config, env);
  later.push(...checkSemantics(config, file, sourceMap), ...checkInertPolicies(config, env, file, sourceMap));
  const problems = settleUnsetSecrets([...unresolved, ...later.filter((p) => !unresolvedAt.has(p.pointer))], placeholders, env, options.unsetSecrets ?? 'error', file, sourceMap);
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  for (const p of problems) p.message = shortenQuotedValues(p.message);
  return { file, problems, config: hasErrors(problems) ? undefined : config };
}

export function checkConfigFile(file: string, env: Env, options: CheckOptions = {}): ConfigCheck {
  return checkConfigText(file, readConfigFile(file), env, options);
}

/** The config to run with; throws ConfigError listing every problem when there is any error. */
export function loadGatewayConfig(file: string, env: Env): { config: GatewayConfig; warnings: ConfigProblem[] } {
  const result = checkConfigFile(file, env);
  if (!result.config) throw new ConfigError(result.problems);
  return { config: result.config, warnings: result.problems };
}
