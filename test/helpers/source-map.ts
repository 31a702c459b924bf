import type { SourceMap } from '../../src/config/source-map';

/** A source map for documents that did not come from a file: every position is 1:1. */
export const EMPTY_SOURCE_MAP: SourceMap = {
  valueAt: () => ({ line: 1, column: 1 }),
  keyAt: () => ({ line: 1, column: 1 }),
  has: () => false,
};
