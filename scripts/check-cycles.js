#!/usr/bin/env node
/**
 * Fails when any two files of src/ import each other, directly or through others: dependencies
 * point one way (see the README's layout). Type-only imports count too: a type that two layers
 * both need belongs below both. Imports are read with the TypeScript compiler's own pre-processor
 * (static imports, `export ... from`, `import()` and `require('...')` of relative paths).
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..', process.argv[2] ?? 'src');

function filesUnder(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

function resolveImport(from, spec) {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

const graph = new Map();
for (const file of filesUnder(root)) {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  const targets = info.importedFiles.map((f) => resolveImport(file, f.fileName)).filter(Boolean);
  graph.set(file, [...new Set(targets)]);
}

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let index = 0;
const stack = [];
const state = new Map();
const cycles = [];
function visit(v) {
  state.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) ?? []) {
    if (!state.has(w)) {
      visit(w);
      state.get(v).low = Math.min(state.get(v).low, state.get(w).low);
    } else if (state.get(w).onStack) {
      state.get(v).low = Math.min(state.get(v).low, state.get(w).index);
    }
  }
  if (state.get(v).low === state.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      state.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component);
  }
}
for (const v of graph.keys()) if (!state.has(v)) visit(v);

const rel = (f) => path.relative(path.resolve(__dirname, '..'), f);
if (cycles.length === 0) {
  console.log(`no import cycles among ${graph.size} files`);
  process.exit(0);
}
for (const component of cycles) {
  const members = new Set(component);
  console.error(`import cycle of ${component.length} files:`);
  for (const f of component.sort()) {
    const inside = graph.get(f).filter((t) => members.has(t)).map(rel);
    console.error(`  ${rel(f)} -> ${inside.join(', ')}`);
  }
}
process.exit(1);
