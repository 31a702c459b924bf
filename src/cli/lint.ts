import { checkConfigFile } from '../config';
import { ConfigProblem, formatProblemsGithub, formatProblemsJson, formatProblemsText, UnreadableFile } from '../config/errors';
import { UnreadableFileError } from '../config/load';
import { Env } from '../config/env';
import { EXIT } from './context';

export type LintFormat = 'text' | 'json' | 'github';

export interface LintOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function summary(file: string, problems: ConfigProblem[]): string {
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  if (errors === 0) return `${file}: valid${warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}`;
  return `${file}: ${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}`;
}

export interface LintOptions {
  /**
   * The environment here is the one the gateway runs with (a deployment's CI): a secret it does not
   * set is an error, as `start` makes it. Without it lint checks the file only, and warns.
   */
  strict?: boolean;
}

/** Lints each file; pure (returns what to print) so tests compare it against golden files. */
export function lintFiles(files: string[], format: LintFormat, env: Env, options: LintOptions = {}): LintOutput {
  const results: { file: string; problems: ConfigProblem[] }[] = [];
  const inOrder: ({ file: string; problems: ConfigProblem[] } | UnreadableFile)[] = [];
  let stderr = '';
  let unreadable = false;
  for (const file of files) {
    try {
      const result = checkConfigFile(file, env, { unsetSecrets: options.strict ? 'error' : 'warning' });
      results.push(result);
      inOrder.push(result);
    } catch (err) {
      if (!(err instanceof UnreadableFileError)) throw err;
      unreadable = true;
      stderr += `${err.message}\n`;
      inOrder.push({ file, unreadable: err.reason });
    }
  }
  const invalid = results.some((r) => r.problems.some((p) => p.severity === 'error'));
  let stdout: string;
  if (format === 'json') stdout = formatProblemsJson(inOrder) + '\n';
  else if (results.length === 0) stdout = '';
  else if (format === 'github')
    stdout =
      results
        .map((r) => formatProblemsGithub(r.problems))
        .filter(Boolean)
        .join('\n') + '\n';
  else stdout = results.map((r) => [formatProblemsText(r.problems), summary(r.file, r.problems)].filter(Boolean).join('\n')).join('\n') + '\n';
  return { exitCode: unreadable ? EXIT.usage : invalid ? EXIT.invalid : EXIT.ok, stdout, stderr };
}
