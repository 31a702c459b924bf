import { checkConfigFile } from '../config';
import type { Env } from '../config/env';
import { formatProblemsText } from '../config/errors';
import type { GatewayConfig } from '../config/types';
import { diffConfigs, formatChanges } from '../reload/diff';
import { maskSecrets } from './print-config';
import { EXIT } from './context';

export interface DiffOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Resolved and masked, so a running gateway's /admin/config compares like for like with a file. */
function loadForDiff(file: string, env: Env): { config?: GatewayConfig; error?: string } {
  // A secret the environment does not set is for `start` to refuse; the diff compares without it.
  const result = checkConfigFile(file, env, { unsetSecrets: 'warning' });
  if (!result.config) return { error: `${formatProblemsText(result.problems)}\n${file}: invalid configuration\n` };
  return { config: maskSecrets(result.config) };
}

/** What would change going from `before` to the config in `afterFile`; exit 0 none, 1 some, 2 trouble. */
export function diffAgainst(before: GatewayConfig, afterFile: string, env: Env): DiffOutput {
  const after = loadForDiff(afterFile, env);
  if (!after.config) return { exitCode: EXIT.usage, stdout: '', stderr: after.error ?? '' };
  const changes = diffConfigs(maskSecrets(before), after.config, { values: true });
  return { exitCode: changes.length ? 1 : 0, stdout: formatChanges(changes), stderr: '' };
}

/**
 * Two files compared as written: each `${VAR:-default}` takes its default and no environment
 * variable overrides a setting, so a change to a setting the environment also sets still shows,
 * and no secret is needed (an unset one is a warning of lint's, not a reason to stop here).
 */
export function diffFiles(beforeFile: string, afterFile: string): DiffOutput {
  const before = loadForDiff(beforeFile, {});
  if (!before.config) return { exitCode: EXIT.usage, stdout: '', stderr: before.error ?? '' };
  return diffAgainst(before.config, afterFile, {});
}

/** The running config of a gateway, from GET /admin/config with the admin token. */
export async function fetchRunningConfig(baseUrl: string, token: string): Promise<GatewayConfig> {
  const res = await fetch(new URL('/admin/config', baseUrl), { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET ${baseUrl}/admin/config answered ${res.status}; is ADMIN_TOKEN set on both sides?`);
  return (await res.json()) as GatewayConfig;
}
