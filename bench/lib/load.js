'use strict';
// Load generators, each in its own process: wrk when it is on PATH, else autocannon (a devDependency).
// Both report requests/s, p50 and p99 latency in milliseconds and the failures they saw.
const procs = require('./procs');

const CONNECTIONS = 64;

function chooseTool(forced) {
  const wrk = procs.onPath('wrk');
  if (forced === 'autocannon' || !wrk) {
    return { name: 'autocannon', describe: `autocannon 9 (node, 1 process) -c${CONNECTIONS}`, path: require.resolve('autocannon/autocannon.js') };
  }
  return { name: 'wrk', describe: `wrk (${wrk}) -t1 -c${CONNECTIONS}`, path: wrk };
}

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function toMs(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

/** Reads wrk's text report (with --latency). */
function parseWrk(out) {
  const num = (re) => { const m = re.exec(out); return m ? Number(m[1]) : null; };
  const pct = (p) => { const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out); return m ? toMs(m[1]) : null; };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const rps = num(/Requests\/sec:\s+([\d.]+)/);
  if (rps === null) throw new Error(`cannot read wrk's output:\n${out}`);
  return {
    rps,
    p50: pct(50),
    p99: pct(99),
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0,
    errors: socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

/** Reads autocannon's --json report. */
function parseAutocannon(out) {
  const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`cannot read autocannon's output:\n${out}`);
  const r = JSON.parse(line);
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx ?? 0,
    errors: (r.errors ?? 0) + (r.timeouts ?? 0),
  };
}

/** One load run of `seconds` against `url`; `headers` are sent with every request. */
async function run(tool, url, duration, headers = {}) {
  const seconds = Math.max(1, Math.round(duration)); // wrk takes whole seconds
  let proc;
  if (tool.name === 'wrk') {
    const h = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
    proc = procs.start('wrk', tool.path, ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', ...h, url]);
  } else {
    const h = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]);
    proc = procs.start('autocannon', process.execPath, [tool.path, '-c', String(CONNECTIONS), '-d', String(seconds), '-j', ...h, url]);
  }
  const finished = await procs.waitExit(proc, (seconds + 20) * 1000);
  if (!finished) {
    await procs.stop(proc);
    throw new Error(`${tool.name} did not finish within ${seconds + 20} s`);
  }
  if (proc.code !== 0) throw new Error(`${tool.name} failed (exit ${proc.code}): ${procs.tail(proc.stderr || proc.stdout)}`);
  return tool.name === 'wrk' ? parseWrk(proc.stdout) : parseAutocannon(proc.stdout);
}

module.exports = { chooseTool, run, CONNECTIONS, parseWrk, parseAutocannon };
