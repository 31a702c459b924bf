import type { Env } from './env';
import { ConfigProblem } from './errors';
import type { SourceMap } from './source-map';
import { isRecord } from '../util/is-record';

/** Where a token-verification key can be written; each may be a `${VAR}` placeholder. */
const KEY_SOURCES = ['/auth/jwt/secret', '/auth/jwt/publicKey', '/auth/jwt/jwksUri'] as const;

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g;

/** The key sources the file fills from the environment, with the variables each names; read before interpolation. */
export function keyPlaceholders(document: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const jwt = isRecord(document) && isRecord(document.auth) && isRecord(document.auth.jwt) ? document.auth.jwt : {};
  for (const pointer of KEY_SOURCES) {
    const value = jwt[pointer.slice('/auth/jwt/'.length)];
    if (typeof value !== 'string') continue;
    const names = [...value.matchAll(VARIABLE)].map((m) => m[1]);
    if (names.length) out.set(pointer, names);
  }
  return out;
}

/** How a check treats a secret the environment does not set: `start` refuses, `lint` warns unless --strict. */
export type UnsetSecrets = 'error' | 'warning';

const CONSEQUENCE = '`tracseq-gateway start` refuses to run until it is set (lint --strict makes this an error)';

/**
 * "No key" is the environment's to fix only when the file names where the key comes from (a
 * placeholder): a file that names no key at all stays an error. As warnings, the missing key
 * becomes one warning per unset variable, at the placeholder that names it.
 */
export function settleUnsetSecrets(problems: ConfigProblem[], placeholders: Map<string, string[]>, env: Env, mode: UnsetSecrets, file: string, map: SourceMap): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const p of problems) {
    const fromPlaceholder = placeholders.has(p.pointer) && p.severity === 'error' && p.message.startsWith('environment variable');
    const missingKey = p.needsEnvironment === true && placeholders.size > 0;
    if (!fromPlaceholder && !missingKey) {
      delete p.needsEnvironment;
      out.push(p);
      continue;
    }
    if (mode === 'error') {
      out.push({ ...p, needsEnvironment: true });
      continue;
    }
    if (fromPlaceholder) {
      out.push({ ...p, severity: 'warning', needsEnvironment: true, message: `${p.message}; ${CONSEQUENCE}` });
      continue;
    }
    const route = /^route "[^"]*"/.exec(p.message)?.[0] ?? 'a route';
    for (const [pointer, names] of placeholders) {
      for (const name of names.filter((n) => env[n] === undefined || env[n] === '')) {
        out.push({
          file,
          ...map.valueAt(pointer),
          severity: 'warning',
          pointer,
          needsEnvironment: true,
          message: `environment variable "${name}" is not set here, so ${route} and every other route that requires auth have no key to verify tokens with; ${CONSEQUENCE}`,
        });
      }
    }
  }
  return out;
}
