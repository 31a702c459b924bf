import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import { ConfigError, ConfigProblem } from './errors';
import { SourceMap, SourceMapBuilder, offsetToPosition } from './source-map';
import { hintFor } from './yaml-errors';

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
  constructor(readonly file: string, cause: NodeJS.ErrnoException) {
    super(`${file}: cannot read the file: ${READ_ERRORS[cause.code ?? ''] ?? cause.message}`);
    this.name = 'UnreadableFileError';
  }
}

export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UnreadableFileError(file, err as NodeJS.ErrnoException);
  }
}

/** Parses YAML text; a syntax error becomes a ConfigError pointing at its line and column. */
export function parseConfigText(file: string, text: string): LoadedDocument {
  const builder = new SourceMapBuilder();
  let document: unknown;
  try {
    document = yaml.load(text, { filename: file, listener: builder.listener, json: false });
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      const hint = hintFor(err.reason, text, err.mark?.position ?? 0);
      const at = hint ? offsetToPosition(text, hint.offset) : { line: (err.mark?.line ?? 0) + 1, column: (err.mark?.column ?? 0) + 1 };
      const problem: ConfigProblem = {
        file,
        ...at,
        severity: 'error',
        pointer: '',
        message: hint?.message ?? `YAML syntax: ${err.reason}; check the indentation, quoting and ':' at this position`,
      };
      throw new ConfigError([problem]);
    }
    throw err;
  }
  return { file, text, document, sourceMap: builder.build(text) };
}

export function loadConfigFile(file: string): LoadedDocument {
  return parseConfigText(file, readConfigFile(file));
}
