/**
 * js-yaml reports some mistakes where it gave up (often the end of the file), not where they were
 * made. These helpers find the place an operator has to edit and say what to write there.
 */
export interface YamlHint {
  offset: number;
  message: string;
}

const CLOSERS: Record<string, string> = { '[': ']', '{': '}', '"': '"', "'": "'" };

/**
 * The first quote or flow bracket that is never closed. Comments are skipped; brackets inside
 * quoted strings do not count. Only consulted for errors that are about such a delimiter.
 */
function unclosedDelimiter(text: string): { offset: number; char: string } | undefined {
  const stack: { offset: number; char: string }[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (top && (top.char === '"' || top.char === "'")) {
      if (c === '\\' && top.char === '"') i++;
      else if (c === top.char) {
        if (top.char === "'" && text[i + 1] === "'") i++;
        else stack.pop();
      }
      i++;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const startsScalar = i === 0 || /[\s,[{:]/.test(text[i - 1]);
    if ((c === '"' || c === "'") && startsScalar) stack.push({ offset: i, char: c });
    else if ((c === '[' || c === '{') && (startsScalar || stack.length > 0)) stack.push({ offset: i, char: c });
    else if ((c === ']' || c === '}') && top && CLOSERS[top.char] === c) stack.pop();
    i++;
  }
  return stack[0];
}

/** A better position and message for a js-yaml error, or undefined to keep js-yaml's own. */
export function hintFor(reason: string, text: string, markOffset: number): YamlHint | undefined {
  if (/quoted scalar|flow collection|missed comma/.test(reason)) {
    const open = unclosedDelimiter(text);
    if (open) {
      const what = open.char === '"' || open.char === "'" ? 'quoted string' : open.char === '[' ? 'list' : 'mapping';
      return { offset: open.offset, message: `YAML syntax: this ${what} is never closed; add the closing ${CLOSERS[open.char]}` };
    }
  }
  if (/null byte is not allowed/.test(reason)) {
    return { offset: markOffset, message: 'a NUL byte is not allowed in YAML; the file may be binary or UTF-16: save it as UTF-8 text' };
  }
  if (/duplicated mapping key/.test(reason)) {
    const lineStart = text.lastIndexOf('\n', markOffset - 1) + 1;
    const key = /^\s*(?:-\s+)?([^:#]+?)\s*:/.exec(text.slice(lineStart))?.[1] ?? '';
    const keyOffset = text.indexOf(key, lineStart);
    return {
      offset: keyOffset >= 0 ? keyOffset : markOffset,
      message: `YAML syntax: duplicate key "${key}" in this mapping; keep one of them`,
    };
  }
  return undefined;
}
