import type { ConfigProblem } from './errors';
import { ComposedNode, nodePosition } from './source-map';

/**
 * YAML aliases (`*name`) repeat a node without writing it again, so a few lines can stand for
 * billions of values ("nine levels of ten aliases") or for a node that contains itself. Every later
 * step (interpolation, schema, checks, compile) walks the values, so both are refused right after
 * parsing, before anything walks them.
 */
export const MAX_ALIAS_VALUES = 100_000;

/** Marks a value that contains itself; its size is not a number. */
const CYCLE = -1;

type Collection = Record<string, unknown> | unknown[];

function isCollection(value: unknown): value is Collection {
  return value !== null && typeof value === 'object';
}

/**
 * How many values `root` holds with every alias expanded (itself included), or CYCLE. Sizes of
 * shared nodes are remembered in `sizes`, so the cost follows what was written, not the expansion;
 * an explicit stack keeps a chain of thousands of aliases off the call stack.
 */
function expandedSize(root: Collection, sizes: Map<object, number>): number {
  const known = sizes.get(root);
  if (known !== undefined) return known;
  const open = new Set<object>([root]);
  const stack: { node: Collection; children: unknown[]; next: number; total: number }[] = [{ node: root, children: Object.values(root), next: 0, total: 1 }];
  while (stack.length) {
    const frame = stack[stack.length - 1];
    if (frame.next === frame.children.length) {
      stack.pop();
      open.delete(frame.node);
      sizes.set(frame.node, frame.total);
      if (stack.length) stack[stack.length - 1].total += frame.total;
      continue;
    }
    const child = frame.children[frame.next++];
    if (!isCollection(child)) {
      frame.total++;
      continue;
    }
    const size = sizes.get(child);
    if (size !== undefined) frame.total += size;
    else if (open.has(child)) return CYCLE;
    else {
      open.add(child);
      stack.push({ node: child, children: Object.values(child), next: 0, total: 1 });
    }
  }
  return sizes.get(root) ?? CYCLE;
}

function aliasName(text: string, offset: number): string {
  const m = /^\s*(\*[^\s,[\]{}]+)/.exec(text.slice(offset, offset + 1024));
  return m ? m[1] : 'this alias';
}

/**
 * The first alias, in the order of the file, that closes a cycle or takes the values all aliases
 * repeat past MAX_ALIAS_VALUES; undefined when there is none. `root` is the tree js-yaml composed:
 * an alias is a leaf there whose result is the (shared) aliased collection.
 */
export function aliasProblem(root: ComposedNode | undefined, text: string, file: string): ConfigProblem | undefined {
  if (!root) return undefined;
  const sizes = new Map<object, number>();
  let repeated = 0;
  const pending: ComposedNode[] = [root];
  while (pending.length) {
    const node = pending.pop()!;
    for (let i = node.children.length - 1; i >= 0; i--) pending.push(node.children[i]);
    if (node.children.length > 0 || !isCollection(node.result)) continue;
    const size = expandedSize(node.result, sizes);
    // Positions and names only for the one reported: finding a line costs a pass over the text.
    const at = () => ({ file, ...nodePosition(text, node.start), severity: 'error' as const, pointer: '' });
    const name = () => aliasName(text, node.start);
    if (size === CYCLE) {
      return { ...at(), message: `${name()} is inside the node it names (an alias cycle); write the values out instead of the alias` };
    }
    repeated += size - 1;
    if (repeated > MAX_ALIAS_VALUES) {
      const repeats = (size - 1).toLocaleString('en-US');
      return {
        ...at(),
        message: `${name()} repeats ${repeats} values, which takes the values repeated through aliases past ${MAX_ALIAS_VALUES.toLocaleString('en-US')} (an alias bomb?); write the values out or use fewer aliases`,
      };
    }
  }
  return undefined;
}
