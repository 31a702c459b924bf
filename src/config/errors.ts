/**
 * Config problems are collected, never thrown one at a time: an operator fixing a file wants every
 * mistake in one run. Each problem knows where it is (file:line:col), which part of the document it
 * concerns (a JSON pointer) and, where we can tell, what to do about it.
 */
export type Severity = 'error' | 'warning';

export interface ConfigProblem {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
  severity: Severity;
  pointer: string; // JSON pointer into the document, '' for the whole file
  message: string;
  /**
   * Set on a problem that only the environment can fix (a key that comes from a variable not set
   * here): `start` refuses it, `lint` without --strict reports it as a warning.
   */
  needsEnvironment?: true;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.pointer === '' ? '' : ` ${p.pointer}`;
  return `${p.file}:${p.line}:${p.column} ${p.severity}${where}: ${p.message}`;
}

export function formatProblemsText(problems: ConfigProblem[]): string {
  return problems.map(formatProblem).join('\n');
}

/** A file `lint` could not read: it has no problems to list, only the reason. */
export interface UnreadableFile {
  file: string;
  unreadable: string;
}

/**
 * Stable, documented shape of `lint --format json`, for every exit code: an unreadable file is
 * listed with `valid: false`, no problems and `unreadable` saying why, so tools never parse nothing.
 */
export function formatProblemsJson(files: ({ file: string; problems: ConfigProblem[] } | UnreadableFile)[]): string {
  const fileValid = (f: (typeof files)[number]) => !('unreadable' in f) && f.problems.every((p) => p.severity !== 'error');
  const out = {
    valid: files.every(fileValid),
    files: files.map((f) => ({
      file: f.file,
      valid: fileValid(f),
      ...('unreadable' in f ? { unreadable: f.unreadable } : {}),
      problems: ('unreadable' in f ? [] : f.problems).map((p) => ({
        line: p.line,
        column: p.column,
        severity: p.severity,
        pointer: p.pointer,
        message: p.message,
      })),
    })),
  };
  return JSON.stringify(out, null, 2);
}

/** GitHub Actions workflow-command annotations, one per problem. */
export function formatProblemsGithub(problems: ConfigProblem[]): string {
  const esc = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  return problems
    .map((p) => {
      const where = p.pointer === '' ? '' : `${p.pointer}: `;
      return `::${p.severity} file=${p.file},line=${p.line},col=${p.column}::${esc(where + p.message)}`;
    })
    .join('\n');
}

/** Thrown when a config cannot be used; carries every problem found. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(formatProblemsText(problems));
    this.name = 'ConfigError';
  }
}

export function hasErrors(problems: ConfigProblem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** Levenshtein distance, used to suggest the name an operator probably meant. */
function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = above;
    }
  }
  return prev[b.length];
}

/** ` (did you mean "x"?)` when one candidate is close enough, else ''. */
export function didYouMean(value: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(value.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.floor(value.length / 3));
  return best !== undefined && bestDistance <= limit ? ` (did you mean "${best}"?)` : '';
}
