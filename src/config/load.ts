import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import { ConfigError, ConfigProblem } from './errors';
import { SourceMap, SourceMapBuilder } from './source-map';

/** A parsed routes.yaml: its raw document, and where each of its parts came from. */
export interface LoadedDocument {
  file: string;
  text: string;
  document: unknown;
  sourceMap: SourceMap;
}

/** Raised when the file cannot be read at all (exit code 2 of `lint`, not a config problem). */
export class UnreadableFileError extends Error {
  constructor(readonly file: string, cause: NodeJS.ErrnoException) {
    super(`${file}: cannot read the file (${cause.code ?? cause.message})`);
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
      const problem: ConfigProblem = {
        file,
        line: err.mark ? err.mark.line + 1 : 1,
        column: err.mark ? err.mark.column + 1 : 1,
        severity: 'error',
        pointer: '',
        message: `YAML syntax: ${err.reason}; fix the YAML at this position (indentation, quoting or a missing ':')`,
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
