import fc from 'fast-check';
import * as yaml from 'js-yaml';

/**
 * Generators of routes.yaml documents for the config fuzz suite: valid documents pointing at a
 * test upstream, then mutated as data (wrong types, deleted keys, huge values, deep nesting) and
 * as bytes (aliases, duplicate keys, binary, encodings, line endings).
 */
export interface FuzzCase {
  bytes: Buffer;
  env: Record<string, string>;
  /** What was done to the document, for the report of a failing case. */
  steps: string[];
}

/** Values the environment gives `${FUZZ_A}` and friends: sometimes clean, sometimes control characters. */
/** Mostly a valid choice (so that some documents pass and get started), sometimes anything. */
function mostly<T>(valid: fc.Arbitrary<T>, ...others: fc.Arbitrary<T>[]): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: valid, weight: 3 * others.length }, ...others.map((arbitrary) => ({ arbitrary, weight: 1 })));
}

const envValue = mostly(
  fc.constantFrom('lab', 'http://127.0.0.1:1', '/p', '5s', ''),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength: 4 }).map((s) => `a${s}b`),
  fc.constantFrom('a\r\nX-Injected: 1', '\u0000', '\u001b[31m', '😀', '${FUZZ_B}'),
);

const duration = mostly(
  fc.constantFrom('250ms', '30s', '5m', '1h', '596h', '2147483647ms'),
  fc.constantFrom('0s', '0ms', '597h', '2147483648ms', '1e3s', '-1s', '30'),
  fc.nat().map((n) => `${n}ms`),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map((n) => `${n}s`),
);

const headerName = mostly(fc.constantFrom('X-Lab', 'X-Route'), fc.constantFrom('X-From-${FUZZ_A}', 'X Bad', 'X-😀', '__proto__', 'constructor'), fc.string({ minLength: 1, maxLength: 8 }));
const headerValue = mostly(fc.constantFrom('static', '${request.id}', 'a\tb'), fc.constantFrom('${FUZZ_A}', '${env.FUZZ_B}', '${nope}'), fc.string({ maxLength: 8 }));

function route(i: number) {
  return fc.record(
    {
      name: mostly(fc.constant(`r${i}`), fc.constantFrom('constructor', 'toString', 'r0')),
      path: mostly(fc.constant(`/p${i}`), fc.constantFrom('/p0', '/health', 'p', '/p/', '/${FUZZ_A}')),
      service: mostly(fc.constant('samples'), fc.constantFrom('storage', 'constructor', '__proto__', 'hasOwnProperty', 'sample')),
      methods: fc.subarray(['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], { minLength: 1 }),
      timeout: duration,
      transform: fc.record({ request: fc.record({ headers: fc.record({ set: fc.dictionary(headerName, headerValue, { maxKeys: 2 }) }) }) }),
    },
    { requiredKeys: ['name', 'path', 'service'] },
  );
}

/** A document most of whose parts are valid, as data. */
export function routesDocument(upstream: string) {
  const service = fc.record(
    {
      instances: fc.constantFrom([upstream], [{ url: upstream, weight: 2 }], [upstream, { url: upstream, weight: 1 }]),
      healthCheck: fc.record({ interval: duration, timeout: duration }, { requiredKeys: [] }),
      circuitBreaker: fc.record({ openFor: duration }, { requiredKeys: [] }),
    },
    { requiredKeys: ['instances'] },
  );
  return fc.record(
    {
      version: mostly<unknown>(fc.constant(1), fc.constantFrom(2, '1')),
      gateway: fc.record({ drainTimeout: duration, headersTimeout: duration, environment: mostly(fc.constant('test'), fc.constant('${FUZZ_A}')) }, { requiredKeys: [] }),
      services: fc.record({ samples: service, storage: service }, { requiredKeys: ['samples'] }),
      routes: fc.tuple(route(0), route(1), route(2)).chain((rs) => fc.subarray(rs, { minLength: 1 })),
    },
    { requiredKeys: ['version', 'services', 'routes'] },
  );
}

type Json = unknown;

/** Every path to a value in `doc` (keys and indexes), the root excluded. */
function paths(doc: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (doc === null || typeof doc !== 'object') return [];
  const entries: [string | number, Json][] = Array.isArray(doc) ? doc.map((v, i) => [i, v]) : Object.entries(doc);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
}

function replaceAt(doc: Json, path: (string | number)[], replace: (old: Json) => Json | undefined): Json {
  if (path.length === 0) return replace(doc);
  const [head, ...rest] = path;
  if (Array.isArray(doc)) {
    const copy = [...(doc as Json[])];
    const next = replaceAt(copy[head as number], rest, replace);
    if (next === undefined) copy.splice(head as number, 1);
    else copy[head as number] = next;
    return copy;
  }
  const copy = { ...(doc as Record<string, Json>) };
  const next = replaceAt(copy[head], rest, replace);
  if (next === undefined) delete copy[head];
  else copy[head] = next;
  return copy;
}

const wrongType = fc.constantFrom<Json>(42, -1, 1e300, 99999999999999999999, true, null, [], {}, [1, 'a'], { x: 1 });

/** A mutation of the data: each picks a path by its index among the document's paths. */
const dataMutation: fc.Arbitrary<DataMutation> = fc.oneof(
  fc.record({ kind: fc.constant('wrong type' as const), at: fc.nat(), value: wrongType }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('huge string' as const), at: fc.nat(), size: fc.constantFrom(1_000, 10_000, 100_000) }),
  fc.record({ kind: fc.constant('deep nesting' as const), at: fc.nat(), depth: fc.integer({ min: 10, max: 300 }) }),
);

type DataMutation = { kind: string; at: number; value?: Json; size?: number; depth?: number };

function applyData(doc: Json, m: DataMutation): Json {
  const all = paths(doc);
  if (all.length === 0) return doc;
  const path = all[m.at % all.length];
  return replaceAt(doc, path, (old) => {
    switch (m.kind) {
      case 'wrong type':
        return typeof old === typeof m.value ? 'not-what-was-there' : m.value;
      case 'delete':
        return undefined;
      case 'huge string':
        return 'x'.repeat(m.size ?? 1000);
      default: {
        let nested: Json = 'leaf';
        for (let i = 0; i < (m.depth ?? 10); i++) nested = i % 2 ? [nested] : { k: nested };
        return nested;
      }
    }
  });
}

function aliasBomb(levels: number, width: number): string {
  let text = `bomb0: &b0 [${Array(width).fill('"x"').join(', ')}]\n`;
  for (let i = 1; i < levels; i++)
    text += `bomb${i}: &b${i} [${Array(width)
      .fill(`*b${i - 1}`)
      .join(', ')}]\n`;
  return text;
}

/** A mutation of the bytes, after the document was written out as YAML. */
const byteMutation = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 10 },
  fc.constant({ kind: 'BOM' as const }),
  fc.constant({ kind: 'CR-only line endings' as const }),
  fc.constant({ kind: 'CR LF line endings' as const }),
  fc.constant({ kind: 'empty' as const }),
  fc.record({ kind: fc.constant('alias bomb' as const), levels: fc.integer({ min: 2, max: 12 }), width: fc.integer({ min: 2, max: 12 }) }),
  fc.record({ kind: fc.constant('alias cycle' as const) }),
  fc.record({ kind: fc.constant('duplicate key' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('binary' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }), at: fc.nat() }),
  fc.record({ kind: fc.constant('invalid UTF-8' as const), at: fc.nat(), byte: fc.constantFrom(0x80, 0xc3, 0xff, 0xfe, 0xed) }),
  fc.record({ kind: fc.constant('truncated' as const), at: fc.nat() }),
);

function applyBytes(text: string, m: { kind: string; levels?: number; width?: number; line?: number; bytes?: Uint8Array; at?: number; byte?: number }): Buffer {
  const utf8 = Buffer.from(text, 'utf8');
  switch (m.kind) {
    case 'BOM':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8]);
    case 'CR-only line endings':
      return Buffer.from(text.replace(/\n/g, '\r'), 'utf8');
    case 'CR LF line endings':
      return Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8');
    case 'empty':
      return Buffer.alloc(0);
    case 'alias bomb':
      return Buffer.from(aliasBomb(m.levels ?? 2, m.width ?? 2) + text, 'utf8');
    case 'alias cycle':
      return Buffer.from(`${text}x-cycle: &c [1, *c]\n`, 'utf8');
    case 'duplicate key': {
      const lines = text.split('\n');
      const i = (m.line ?? 0) % Math.max(1, lines.length - 1);
      lines.splice(i + 1, 0, lines[i]);
      return Buffer.from(lines.join('\n'), 'utf8');
    }
    case 'binary':
    case 'invalid UTF-8': {
      const at = (m.at ?? 0) % (utf8.length + 1);
      const inserted = m.kind === 'binary' ? Buffer.from(m.bytes ?? []) : Buffer.from([m.byte ?? 0x80]);
      return Buffer.concat([utf8.subarray(0, at), inserted, utf8.subarray(at)]);
    }
    case 'truncated':
      return utf8.subarray(0, (m.at ?? 0) % (utf8.length + 1));
    default:
      return utf8;
  }
}

/** A whole fuzz case: a document, zero to three data mutations, one byte mutation, an environment. */
export function fuzzCase(upstream: string): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      doc: routesDocument(upstream),
      data: fc.oneof({ arbitrary: fc.constant<DataMutation[]>([]), weight: 3 }, { arbitrary: fc.array(dataMutation, { minLength: 1, maxLength: 3 }), weight: 2 }),
      bytes: byteMutation,
      env: fc.record({ FUZZ_A: envValue, FUZZ_B: envValue }),
    })
    .map(({ doc, data, bytes, env }) => {
      let mutated: Json = doc;
      for (const m of data) mutated = applyData(mutated, m);
      const text = yaml.dump(mutated, { lineWidth: -1, noRefs: true });
      const steps = [...data.map((m) => `${m.kind} #${m.at}`), bytes.kind];
      const bytesOut = applyBytes(text, bytes);
      // A failing case is reported by its steps and first bytes, not as a megabyte of numbers.
      const shown = `{ steps: ${JSON.stringify(steps)}, env: ${JSON.stringify(env)}, start: ${JSON.stringify(bytesOut.subarray(0, 300).toString('latin1'))} }`;
      return { bytes: bytesOut, env, steps, [fc.toStringMethod]: () => shown };
    });
}
