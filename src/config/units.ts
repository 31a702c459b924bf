/**
 * Durations ("250ms", "30s", "5m", "1h") and sizes ("512kb", "10mb") are strings with units in
 * routes.yaml, so a bare number can never be misread as seconds versus milliseconds.
 */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const SIZE = /^(\d+(?:\.\d+)?)(b|kb|mb|gb)$/i;

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

export const DURATION_PATTERN = '^\\d+(\\.\\d+)?(ms|s|m|h)$';
export const SIZE_PATTERN = '^\\d+(\\.\\d+)?([bB]|[kK][bB]|[mM][bB]|[gG][bB])$';

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Math.round(Number(m[1]) * DURATION_MS[m[2]]) : undefined;
}

/** Bytes, or undefined when the text is not a size. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  return m ? Math.round(Number(m[1]) * SIZE_BYTES[m[2].toLowerCase()]) : undefined;
}
