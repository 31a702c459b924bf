'use strict';
// A text summary of a V8 .cpuprofile (node --cpu-prof): where the time went, by self time and by
// inclusive time, so a benchmark run points at the hot spots without opening DevTools.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

function label(frame) {
  const url = frame.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '').replace(`${ROOT}/`, '');
  return `${frame.functionName || '(anonymous)'} ${url ? `${url}:${frame.lineNumber + 1}` : ''}`.trim();
}

/** Returns lines: total sampled time, then the `top` functions by self and by inclusive time. */
function summarize(file, top = 15) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const time = new Map();
  profile.samples.forEach((id, i) => time.set(id, (time.get(id) || 0) + (profile.timeDeltas[i] || 0)));

  let total = 0;
  let idle = 0;
  const self = new Map();
  const inclusive = new Map();
  for (const n of profile.nodes) {
    const t = time.get(n.id) || 0;
    if (!t) continue;
    total += t;
    if (n.callFrame.functionName === '(idle)') { idle += t; continue; }
    const key = label(n.callFrame);
    self.set(key, (self.get(key) || 0) + t);
    const seen = new Set();
    for (let id = n.id; id !== undefined; id = parent.get(id)) {
      const k = label(byId.get(id).callFrame);
      if (k === '(root)' || seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) || 0) + t);
    }
  }
  const busy = total - idle;
  const rows = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, t]) => `  ${((100 * t) / busy).toFixed(1).padStart(5)}%  ${k}`);
  return [
    `${path.basename(file)}: ${(total / 1e6).toFixed(1)} s sampled, ${(idle / 1e6).toFixed(1)} s idle; shares below are of the busy time`,
    'self time:', ...rows(self),
    'inclusive time:', ...rows(inclusive),
  ];
}

module.exports = { summarize };

if (require.main === module) {
  for (const f of process.argv.slice(2)) process.stdout.write(summarize(f, 25).join('\n') + '\n');
}
