import type { IncomingMessage } from 'node:http';
import { payloadTooLarge } from '../errors/coded';

/**
 * Reads a whole request body into memory, for the few requests that must hold it (validated
 * calls, bodies kept for a retry). Past `limit` bytes it fails with 413 at once and drops the
 * rest; a client that goes away while sending fails it with a plain Error (nobody to answer).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(payloadTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    req.once('error', reject);
    req.once('aborted', () => reject(new Error('client aborted')));
  });
}
