import { createHash } from 'node:crypto';
import type { Env } from '../config/env';

/** What a reload compares to tell "nothing changed": the file's text and the environment it is read with. */
export function contentHash(text: string, env: Env): string {
  return createHash('sha256').update(text).update(JSON.stringify(env)).digest('hex');
}
