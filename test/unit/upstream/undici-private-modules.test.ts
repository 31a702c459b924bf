import { readFileSync } from 'node:fs';
import { UNDICI_PRIVATE_MODULES } from '../../../src/upstream/undici';

// The gateway loads parts of undici by private paths (see src/upstream/undici.ts for the measured
// reason). A release may move them without a major version: this says so loudly, with the version.
const installed = (JSON.parse(readFileSync(require.resolve('undici/package.json'), 'utf8')) as { version: string }).version;

function load(path: string): Record<string, unknown> {
  try {
    return require(path) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`undici ${installed}: private module ${path} no longer loads (${(err as Error).message}); update src/upstream/undici.ts or use the public entry point`);
  }
}

describe(`undici ${installed}: the private modules the gateway loads`, () => {
  it('Pool and Agent are undici dispatchers with dispatch()', () => {
    for (const path of [UNDICI_PRIVATE_MODULES.pool, UNDICI_PRIVATE_MODULES.agent]) {
      const loaded: unknown = load(path);
      const dispatch = typeof loaded === 'function' ? (loaded.prototype as { dispatch?: unknown }).dispatch : undefined;
      if (typeof dispatch !== 'function') throw new Error(`undici ${installed}: ${path} is no longer a dispatcher class`);
      expect(typeof dispatch).toBe('function');
    }
  });

  it('bufferToLowerCasedHeaderName lowercases header names from bytes', () => {
    const fn = load(UNDICI_PRIVATE_MODULES.util).bufferToLowerCasedHeaderName;
    if (typeof fn !== 'function') throw new Error(`undici ${installed}: ${UNDICI_PRIVATE_MODULES.util} lost bufferToLowerCasedHeaderName`);
    const lower = fn as (name: Buffer) => string;
    expect(lower(Buffer.from('Content-Type'))).toBe('content-type');
    expect(lower(Buffer.from('X-Custom-Thing'))).toBe('x-custom-thing');
  });

  it('is the same class the public entry point exports', () => {
    const pub = require('undici') as { Pool: unknown; Agent: unknown };
    expect(load(UNDICI_PRIVATE_MODULES.pool)).toBe(pub.Pool);
    expect(load(UNDICI_PRIVATE_MODULES.agent)).toBe(pub.Agent);
  });
});
