/**
 * Maps JSON pointers of a parsed YAML document back to line:column in its source, so that schema
 * errors (which speak in pointers) can name the exact place in routes.yaml.
 *
 * js-yaml's `listener` reports an 'open' and a 'close' event for every node it composes. Nesting the
 * events gives a tree; a node whose only child produced the very same value is a wrapper js-yaml
 * creates while it probes for an implicit key, and is collapsed. In a mapping the children alternate
 * key, value; in a sequence each child is an item.
 */
export interface Position {
  line: number; // 1-based
  column: number; // 1-based
}

export interface SourceMap {
  /** Where the value at `pointer` starts, or of its nearest ancestor that has one. */
  valueAt(pointer: string): Position;
  /** Where the key of the entry at `pointer` starts (mapping entries), else its value. */
  keyAt(pointer: string): Position;
  /** Whether `pointer` was written in the source (not filled in or derived afterwards). */
  has(pointer: string): boolean;
}

/** One node js-yaml composed, as its listener saw it; an alias is a leaf whose result is the aliased value. */
export interface ComposedNode {
  start: number;
  result: unknown;
  children: ComposedNode[];
}

type Node = ComposedNode;

export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointerParent(pointer: string): string {
  const i = pointer.lastIndexOf('/');
  return i <= 0 ? '' : pointer.slice(0, i);
}

/** Event sink to hand to js-yaml's `load(src, { listener })`. */
export class SourceMapBuilder {
  private readonly stack: Node[] = [{ start: 0, result: undefined, children: [] }];

  readonly listener = (event: 'open' | 'close', state: { position: number; result: unknown }): void => {
    if (event === 'open') {
      this.stack.push({ start: state.position, result: undefined, children: [] });
    } else {
      const node = this.stack.pop();
      if (!node) return;
      node.result = state.result;
      this.stack[this.stack.length - 1].children.push(node);
    }
  };

  /** The document's root node as written (aliases unexpanded), once js-yaml has finished. */
  root(): ComposedNode | undefined {
    return this.stack[0].children[0];
  }

  build(src: string): SourceMap {
    const lineStarts = lineStartsOf(src);
    const toPosition = (offset: number): Position => {
      let i = skipBlank(src, offset);
      // A node that ends the file (an empty value) is shown at the last character written.
      if (i >= src.length) i = Math.max(0, src.trimEnd().length - 1);
      return positionIn(lineStarts, i);
    };

    const values = new Map<string, Position>();
    const keys = new Map<string, Position>();
    const visit = (node: Node, pointer: string): void => {
      node = unwrap(node);
      values.set(pointer, toPosition(node.start));
      if (Array.isArray(node.result)) {
        node.children.forEach((child, i) => visit(child, `${pointer}/${i}`));
      } else if (node.result !== null && typeof node.result === 'object') {
        for (let i = 0; i + 1 < node.children.length; i += 2) {
          const key = unwrap(node.children[i]);
          const childPointer = `${pointer}/${escapePointerToken(String(key.result))}`;
          keys.set(childPointer, toPosition(key.start));
          visit(node.children[i + 1], childPointer);
        }
      }
    };
    const root = this.root();
    if (root) visit(root, '');

    const nearest = (map: Map<string, Position>, pointer: string): Position => {
      for (let p = pointer; ; p = pointerParent(p)) {
        const found = map.get(p) ?? values.get(p);
        if (found) return found;
        if (p === '') return { line: 1, column: 1 };
      }
    };
    return {
      valueAt: (pointer) => nearest(values, pointer),
      keyAt: (pointer) => nearest(keys, pointer),
      has: (pointer) => values.has(pointer),
    };
  }
}

/** Where each line starts. YAML (and js-yaml's own marks) break lines at LF, CR LF and a lone CR. */
function lineStartsOf(src: string): number[] {
  const starts = [0];
  for (let i = 0; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && src.charCodeAt(i + 1) !== 0x0a)) starts.push(i + 1);
  }
  return starts;
}

function positionIn(lineStarts: number[], offset: number): Position {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - lineStarts[lo] + 1 };
}

/** 1-based line and column of a character offset. */
export function offsetToPosition(src: string, offset: number): Position {
  return positionIn(lineStartsOf(src), Math.max(0, Math.min(offset, src.length)));
}

/** Where a node that js-yaml opened at `offset` shows in the file (past the blanks before it). */
export function nodePosition(src: string, offset: number): Position {
  return offsetToPosition(src, skipBlank(src, offset));
}

function unwrap(node: Node): Node {
  while (node.children.length === 1 && node.children[0].result === node.result) node = node.children[0];
  return node;
}

/** js-yaml opens a node before the blanks and comments that precede it. */
function skipBlank(src: string, i: number): number {
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
    else if (c === '#') while (i < src.length && src[i] !== '\n') i++;
    else break;
  }
  return i;
}
