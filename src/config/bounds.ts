import type { ConfigProblem } from './errors';
import { SchemaNode, deref, routesSchema } from './schema';
import { SourceMap, escapePointerToken } from './source-map';
import { DURATION_PATTERN, SIZE_PATTERN, parseDuration, parseSize } from './units';
import { isRecord } from '../util/is-record';

/**
 * The longest duration a setting may have: node's timers take at most 2^31−1 ms, and a longer one
 * fires after 1 ms instead (with a TimeoutOverflowWarning), so a health check every "1000h" would
 * probe continuously. Every duration is bounded, also those that are never a timer, so the rule is
 * one rule.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** Sizes are byte counts compared with lengths and given to node: beyond this they lose precision. */
export const MAX_SIZE_BYTES = Number.MAX_SAFE_INTEGER;

const DURATION_PATTERNS = new Set([DURATION_PATTERN, `^$|${DURATION_PATTERN}`]);

/** The schema node of a oneOf that describes `value` (the branch whose type it has). */
function branchFor(root: SchemaNode, node: SchemaNode, value: unknown): SchemaNode | undefined {
  return node.oneOf?.map((b) => deref(root, b)).find((b) => (b.type === 'object') === isRecord(value) && (b.type === 'array') === Array.isArray(value));
}

function boundProblem(node: SchemaNode, value: string): string | undefined {
  if (typeof node.pattern !== 'string') return undefined;
  if (DURATION_PATTERNS.has(node.pattern)) {
    const ms = parseDuration(value);
    if (ms !== undefined && ms > MAX_DURATION_MS) {
      return `"${value}" is longer than the longest duration a setting may have, 2147483647ms (about 24 days, the longest timer Node.js sets); write a shorter duration`;
    }
  } else if (node.pattern === SIZE_PATTERN) {
    const bytes = parseSize(value);
    if (bytes !== undefined && bytes > MAX_SIZE_BYTES) return `"${value}" is larger than the largest size a setting may have (8388607gb, 2^53−1 bytes); write a smaller size`;
  }
  return undefined;
}

/**
 * Durations and sizes out of range, wherever the schema has one: found by the schema's own
 * patterns, so a duration added to the schema later is bounded too. Runs on the document as
 * written (after ${VAR} and the environment), so every problem is where the operator wrote it.
 */
export function checkBounds(document: unknown, file: string, map: SourceMap): ConfigProblem[] {
  const root = routesSchema();
  const problems: ConfigProblem[] = [];
  const pending: { node: SchemaNode; value: unknown; pointer: string }[] = [{ node: root, value: document, pointer: '' }];
  while (pending.length) {
    const { node: raw, value, pointer } = pending.pop()!;
    const node = raw.oneOf ? branchFor(root, raw, value) : deref(root, raw);
    if (!node) continue;
    if (typeof value === 'string') {
      const why = boundProblem(node, value);
      if (why) problems.push({ file, ...map.valueAt(pointer), severity: 'error', pointer, message: why });
    } else if (Array.isArray(value) && node.items) {
      value.forEach((item, i) => pending.push({ node: node.items!, value: item, pointer: `${pointer}/${i}` }));
    } else if (isRecord(value)) {
      for (const [key, child] of Object.entries(value)) {
        const props = node.properties ?? {};
        const childNode = Object.hasOwn(props, key) ? props[key] : typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
        if (childNode) pending.push({ node: childNode, value: child, pointer: `${pointer}/${escapePointerToken(key)}` });
      }
    }
  }
  return problems;
}
