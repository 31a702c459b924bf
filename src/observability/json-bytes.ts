/**
 * Writing JSON text straight into a byte buffer, for the access log: each helper writes one value
 * at `at` and returns where the next byte goes. The caller makes sure the buffer has room.
 */

/** Text that goes into a JSON string as it is: printable ASCII without `"` and `\`. */
const PLAIN_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

const QUOTE = 0x22;
const ZERO = 0x30;
const POINT = 0x2e;

/** Bytes written often, encoded once. */
export function bytesOf(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

export function putBytes(buf: Buffer, at: number, bytes: Buffer): number {
  buf.set(bytes, at);
  return at + bytes.length;
}

/** Text known to be printable ASCII with nothing to escape (ids, HTTP methods). */
export function putAscii(buf: Buffer, at: number, text: string): number {
  return at + buf.write(text, at, 'latin1');
}

/** A JSON string literal: quotes, backslashes, control characters and lone surrogates escaped. */
export function putString(buf: Buffer, at: number, text: string): number {
  if (!PLAIN_TEXT.test(text)) return at + buf.write(JSON.stringify(text), at, 'utf8');
  buf[at] = QUOTE;
  at = at + 1 + buf.write(text, at + 1, 'latin1');
  buf[at] = QUOTE;
  return at + 1;
}

/** A non-negative integer (counts, statuses): digits written without making a string. */
export function putCount(buf: Buffer, at: number, n: number): number {
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n))) return at + buf.write(JSON.stringify(n), at, 'latin1'); // null for NaN
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  for (let i = at + digits - 1; i >= at; i--) {
    buf[i] = ZERO + (n % 10);
    n = Math.floor(n / 10);
  }
  return at + digits;
}

/**
 * A non-negative number with two decimals ("2.41", "3.00"): formatting a fraction as a string
 * costs several times more than two integer writes.
 */
export function putHundredths(buf: Buffer, at: number, value: number): number {
  const hundredths = Math.round(value * 100);
  if (!(hundredths >= 0 && hundredths <= Number.MAX_SAFE_INTEGER)) return at + buf.write(JSON.stringify(value), at, 'latin1'); // null for NaN
  at = putCount(buf, at, Math.floor(hundredths / 100));
  const fraction = hundredths % 100;
  buf[at] = POINT;
  buf[at + 1] = ZERO + Math.floor(fraction / 10);
  buf[at + 2] = ZERO + (fraction % 10);
  return at + 3;
}
