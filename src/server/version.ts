import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package version, read once; the same file serves src/ (tests) and dist/ (runtime). */
export const VERSION: string = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
