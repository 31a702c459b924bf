import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import { ConfigError, ConfigProblem } from './errors';
import { SourceMap, SourceMapBuilder, offsetToPosition } from './source-map';
import { hintFor } from './yaml-errors';
import { aliasProblem } from './alias-budget';

/** A parsed routes.yaml: its raw document, and where each of its parts came from. */
export interface LoadedDocument {
  file: string;
  text: string;
  document: unknown;
  sourceMap: SourceMap;
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/** Raised when the file cannot be read at all (exit code 2 of `lint`, not a config problem). */
export class UnreadableFileError extends Error {
  /** Why, in a few words ("no such file"), for tools that print the file themselves. */
  readonly reason: string;

  constructor(
    readonly file: string,
    cause: NodeJS.ErrnoException,
  ) {
    const reason = (cause.code !== undefined && Object.hasOwn(READ_ERRORS, cause.code) ? READ_ERRORS[cause.code] : undefined) ?? cause.message;
    super(`${file}: cannot read the file: ${reason}`);
    this.name = 'UnreadableFileError';
    this.reason = reason;
  }
}

export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UnreadableFileError(file, err as NodeJS.ErrnoException);
  }
}

/**
 * Parses YAML text; a syntax error becomes a ConfigError pointing at its line and column, and so do
 * aliases that repeat too much or contain themselves (see alias-budget.ts).
 */
export function parseConfigText(file: string, original: string): LoadedDocument {
  // js-yaml drops a leading byte order mark before it counts offsets; so do we, or every column
  // of the first line would be one off. Editors do not show it as a column either.
  const text = original.charCodeAt(0) === 0xfeff ? original.slice(1) : original;
  const builder = new SourceMapBuilder();
  let document: unknown;
  try {
    document = yaml.load(text, { filename: file, listener: builder.listener, json: false });
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      const offset = err.mark?.position ?? 0;
      const hint = hintFor(err.reason, text, offset);
      // Positions come from the offset, counted as source-map.ts counts lines: js-yaml's own line
      // and column are wrong for some errors (a NUL byte is "line 1, column <offset>").
      const problem: ConfigProblem = {
        file,
        ...offsetToPosition(text, hint?.offset ?? offset),
        severity: 'error',
        pointer: '',
        message: hint?.message ?? `YAML syntax: ${err.reason}; check the indentation, quoting and ':' at this position`,
      };
      throw new ConfigError([problem]);
    }
    throw err;
  }
  const tooManyAliases = aliasProblem(builder.root(), text, file);
  if (tooManyAliases) throw new ConfigError([tooManyAliases]);
  return { file, text, document, sourceMap: builder.build(text) };
}
