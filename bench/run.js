'use strict';
// The gateway benchmark: `npm run bench` (builds first), `npm run bench -- --help` for the flags.
// Throughput of every system in bench/systems.js, interleaved over rounds; then, for the gateway,
// latency at a fixed rate, 10k held connections and a 100 MB upload, each with its memory.
// Every system, upstream and load generator is a separate process; all are stopped at the end.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const procs = require('./lib/procs');
const load = require('./lib/load');
const { STARTERS, redisProvider, ROOT, BENCH } = require('./lib/starters');
const SYSTEMS = require('./systems');

const HELP = `usage: npm run bench -- [flags]

  --rounds N          rounds of the interleaved throughput runs (default 3)
  --duration S        seconds per throughput run (default 5)
  --warmup S          seconds of unrecorded load per system before round 1 (default 10:
                      node proxies reach full speed only after ~10 s of load on a slow machine)
  --quick             smoke test: throughput only, 1 round of 3 s, 3 s warm-up
  --only a,b          run only these systems (names as in the table)
  --peers             also Express Gateway 1.16.11 (installed once into bench/.peers/)
  --tool wrk|autocannon   force a load generator (default: wrk when on PATH)
  --no-latency        skip latency at a fixed rate (direct, bare-undici, nginx, gateway-plain)
  --rate N            requests/s of that measurement (default 500)
  --no-connections    skip the held-connections measurement
  --connections N     connections held against gateway-plain (default 10000)
  --no-upload         skip the upload measurement
  --upload-mb N       size of the upload in MiB (default 100)
  --no-extras         skip all three above
  --cpu-prof          run the gateway under node --cpu-prof (profile path is printed)
  --keep              keep the temp dir (configs, access logs) instead of deleting it
  --help              this text`;

function usage(message) {
  return Object.assign(new Error(message), { usage: true });
}

function parseArgs(argv) {
  const o = {
    rounds: 3, duration: 5, warmup: 10, quick: false, only: null, peers: false, tool: null,
    latency: true, rate: 500, connections: true, connCount: 10_000, upload: true, uploadMb: 100,
    cpuProf: false, keep: false,
  };
  const explicit = new Set();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw usage(`${a} needs a value`);
      return v;
    };
    const number = () => {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw usage(`${a} needs a positive number`);
      return n;
    };
    switch (a) {
      case '--rounds': o.rounds = Math.round(number()); explicit.add('rounds'); break;
      case '--duration': o.duration = number(); explicit.add('duration'); break;
      case '--warmup': o.warmup = Number(value()); if (!(o.warmup >= 0)) throw usage('--warmup needs a number of seconds'); explicit.add('warmup'); break;
      case '--quick': o.quick = true; break;
      case '--only': o.only = value().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--peers': o.peers = true; break;
      case '--tool': o.tool = value(); if (!['wrk', 'autocannon'].includes(o.tool)) throw usage('--tool is wrk or autocannon'); break;
      case '--no-latency': o.latency = false; break;
      case '--rate': o.rate = number(); break;
      case '--no-connections': o.connections = false; break;
      case '--connections': o.connCount = Math.round(number()); break;
      case '--no-upload': o.upload = false; break;
      case '--upload-mb': o.uploadMb = number(); break;
      case '--no-extras': o.latency = o.connections = o.upload = false; break;
      case '--cpu-prof': o.cpuProf = true; break;
      case '--keep': o.keep = true; break;
      case '--help': case '-h': process.stdout.write(HELP + '\n'); process.exit(0); break;
      default: throw usage(`unknown flag ${a} (see --help)`);
    }
  }
  if (o.quick) {
    if (!explicit.has('rounds')) o.rounds = 1;
    if (!explicit.has('duration')) o.duration = 3;
    if (!explicit.has('warmup')) o.warmup = 3;
    o.latency = o.connections = o.upload = false;
  }
  if (o.only) {
    const unknown = o.only.filter((n) => !SYSTEMS.some((s) => s.name === n));
    if (unknown.length) throw usage(`--only: no system named ${unknown.join(', ')} (systems: ${SYSTEMS.map((s) => s.name).join(', ')})`);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// numbers and formatting

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const int = (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));
const ms = (n) => (n === null || n === undefined ? '–' : n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(1)} ms`);
const signedMs = (n) => `${n < 0 ? '−' : '+'}${ms(Math.abs(n))}`;
const mib = (kib) => (kib === null || kib === undefined ? '–' : `${(kib / 1024).toFixed(1)} MiB`);
const others = (share) => (share !== null && share >= 0.05 ? `  [other processes: ${Math.round(share * 100)}% of CPU]` : '');
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '–');

function table(header, rows) {
  // A row [name, { note }] spans the columns after the name (skipped and unavailable systems).
  const isNote = (r) => r.length === 2 && typeof r[1] === 'object';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.filter((r) => i === 0 || !isNote(r)).map((r) => String(r[i] ?? '').length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ').trimEnd()];
  for (const r of rows) out.push(isNote(r) ? `${r[0].padEnd(widths[0])}  ${r[1].note}` : line(r));
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

/** Set on SIGINT/SIGTERM: nothing more is started or printed while children are stopped. */
let stopping = false;
const log = (text = '') => { if (!stopping) process.stdout.write(text + '\n'); };

function versions(tool) {
  const v = {
    node: process.version,
    undici: require('undici/package.json').version,
    express: require('express/package.json').version,
    'http-proxy-middleware': require('http-proxy-middleware/package.json').version,
  };
  try { v.gateway = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version; } catch { /* unknown */ }
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (git.status === 0) v.gatewayCommit = git.stdout.trim();
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' });
  if (dirty.status === 0) v.gatewaySourceModified = dirty.stdout.trim() !== '';
  if (tool.name === 'wrk') v.wrk = (spawnSync(tool.path, ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0] || '').trim();
  else v.autocannon = require('autocannon/package.json').version;
  const nginx = procs.onPath('nginx');
  if (nginx) { const r = spawnSync(nginx, ['-v'], { encoding: 'utf8' }); v.nginx = `${r.stderr}${r.stdout}`.trim(); }
  return v;
}

/**
 * Starts one system, waits a second, then reads its RSS right after start-up. A system that dies
 * right after it answered (its port was taken by another program in between) is started again on
 * another port.
 */
async function startSystem(sys, ctx) {
  for (let attempt = 1; ; attempt++) {
    const t0 = Date.now();
    let running;
    try {
      running = await STARTERS[sys.kind](sys, ctx);
    } catch (err) {
      if (attempt < 3 && /EADDRINUSE|address already in use|cannot listen/i.test(err.message)) { log(`  ${sys.name}: ${err.message.split('\n')[0]}; retrying`); continue; }
      throw err;
    }
    if (running.unavailable) return running;
    await procs.sleep(1000);
    if (running.proc && running.proc.exited) {
      const why = `${sys.name} exited (code ${running.proc.code}) right after it started: ${procs.tail(running.proc.stderr, 3)}`;
      if (attempt < 3) { log(`  ${why}; retrying`); continue; }
      throw new Error(why);
    }
    running.startupRssKiB = rssOf(running);
    running.startMs = Date.now() - t0;
    running.readyAt = Date.now();
    return running;
  }
}

/** RSS of a running system in KiB (nginx: master + workers). */
function rssOf(running) {
  return running.tree ? procs.treeRssKiB(running.pid) : procs.rssKiB(running.pid);
}

/**
 * V8 keeps the heap it grew while starting up until its memory reducer shrinks it, ~8 s after
 * allocation stops (by ~10 MiB for the gateway). Idle RSS is read once every system has been idle
 * that long, so it shows what a process at rest holds, not its start-up.
 */
const IDLE_SETTLE_MS = 20_000;

async function readSettledIdleRss(active, results) {
  const lastReady = Math.max(...active.map((s) => s.running.readyAt));
  const wait = IDLE_SETTLE_MS - (Date.now() - lastReady);
  if (wait > 0) {
    log(`idle RSS: waiting ${(wait / 1000).toFixed(0)} s until every system has been idle ${IDLE_SETTLE_MS / 1000} s`);
    await procs.sleep(wait);
  }
  for (const { sys, running } of active) results[sys.name].idleRssKiB = rssOf(running);
}

async function throughput(ctx, active, opts, results) {
  if (opts.warmup > 0) {
    log(`warm-up: ${opts.warmup} s per system (not recorded)`);
    for (const s of active) {
      try { await load.run(ctx.tool, s.running.url, opts.warmup, s.running.headers); } catch (err) { log(`  ${s.sys.name}: warm-up failed: ${err.message}`); }
    }
  }
  const width = Math.max(...active.map((s) => s.sys.name.length));
  for (let r = 1; r <= opts.rounds; r++) {
    for (const s of active) {
      const entry = results[s.sys.name];
      try {
        const before = procs.cpuSnapshot([s.running.pid, ...ctx.upstreams.map((u) => u.pid)]);
        const m = await load.run(ctx.tool, s.running.url, opts.duration, s.running.headers);
        m.othersCpu = procs.othersShare(before, procs.cpuSnapshot([s.running.pid, ...ctx.upstreams.map((u) => u.pid)]));
        entry.rounds.push(m);
        const bad = m.non2xx || m.errors ? `  (${m.non2xx} non-2xx, ${m.errors} socket errors)` : '';
        log(`round ${r}/${opts.rounds}  ${s.sys.name.padEnd(width)}  ${int(m.rps).padStart(7)} req/s  p50 ${ms(m.p50)}  p99 ${ms(m.p99)}${others(m.othersCpu)}${bad}`);
      } catch (err) {
        entry.errors.push(err.message);
        log(`round ${r}/${opts.rounds}  ${s.sys.name.padEnd(width)}  failed: ${err.message}`);
      }
      if (s.running.proc && s.running.proc.exited) {
        log(`  ${s.sys.name} exited (code ${s.running.proc.code}); it is left out of the next rounds. Its last words:\n${procs.tail(s.running.proc.stderr)}`);
        s.dead = true;
      }
    }
    active = active.filter((s) => !s.dead);
  }
}

function summarize(results) {
  for (const entry of Object.values(results)) {
    if (!entry.rounds.length) continue;
    const rps = entry.rounds.map((m) => m.rps);
    entry.summary = {
      rps: median(rps), min: Math.min(...rps), max: Math.max(...rps),
      p50: median(entry.rounds.map((m) => m.p50).filter((x) => x !== null)),
      p99: median(entry.rounds.map((m) => m.p99).filter((x) => x !== null)),
      othersCpu: median(entry.rounds.map((m) => m.othersCpu).filter((x) => x !== null)),
      non2xx: entry.rounds.reduce((a, m) => a + m.non2xx, 0),
      errors: entry.rounds.reduce((a, m) => a + m.errors, 0),
    };
    if (entry.summary.non2xx || entry.summary.errors) entry.status = 'measured with failures';
  }
  for (const entry of Object.values(results)) {
    if (!entry.summary) continue;
    entry.ratios = {};
    // Express Gateway is compared like for like: full pipelines against its jwt + rate-limit + proxy one.
    const refs = { direct: 'direct', 'bare-undici': 'bare-undici', nginx: 'nginx', 'express-gateway': entry.egPeer };
    for (const [key, name] of Object.entries(refs)) {
      const ref = results[name] && results[name].summary;
      entry.ratios[key] = ref ? entry.summary.rps / ref.rps : null;
    }
  }
}

function printTable(results, opts) {
  const rows = [];
  for (const [name, e] of Object.entries(results)) {
    if (!e.summary) {
      rows.push([name, { note: e.reason ? `${e.status}: ${e.reason}` : e.status }]);
      continue;
    }
    const s = e.summary;
    const ref = (n) => (results[n] && results[n].summary ? results[n].summary.rps : null);
    rows.push([
      name,
      `${int(s.rps)} [${int(s.min)}–${int(s.max)}]`,
      ms(s.p50), ms(s.p99),
      ratio(s.rps, ref('direct')), ratio(s.rps, ref('bare-undici')), ratio(s.rps, ref('nginx')), ratio(s.rps, ref(e.egPeer)),
      mib(e.idleRssKiB),
      s.othersCpu === null ? '–' : `${Math.round(s.othersCpu * 100)}%`,
      s.non2xx || s.errors ? `${s.non2xx + s.errors} failed` : '',
    ]);
  }
  log();
  log(`throughput: median of ${opts.rounds} round(s) of ${opts.duration} s [min–max], ${load.CONNECTIONS} connections; p50/p99: median over rounds`);
  log(table(['system', 'requests/s', 'p50', 'p99', '/direct', '/bare-undici', '/nginx', '/express-gw', 'idle RSS', 'other CPU', ''], rows));
  log(`/x: requests/s relative to system x · idle RSS: after ${IDLE_SETTLE_MS / 1000} s at rest, before load (nginx: master + worker) · other CPU: share of`);
  log('the machine used by processes outside the benchmark during the runs (median); above ~10% the numbers are noisy');
  log('/express-gw: gateway-full and express-gateway-full against express-gateway-full (jwt + rate-limit + proxy), the others against express-gateway (proxy)');
}

/**
 * The throughput targets of the gateway (see bench/README.md), each with its measured value: the
 * ratio of the medians, and the ratios round by round. The systems of one round ran back to back,
 * so a round's ratio is spared the machine's drift between rounds.
 */
function printTargets(results) {
  const entry = (name) => (results[name] && results[name].summary ? results[name] : null);
  const rows = [
    ['gateway-plain', 'bare-undici', 0.75],
    ['gateway-plain', 'nginx', 0.3],
    ['gateway-plain', 'express-gateway', 3],
    ['gateway-full', 'express-gateway-full', 2],
    ['gateway-full', 'gateway-plain', 0.5],
  ].map(([a, b, want]) => {
    const [ea, eb] = [entry(a), entry(b)];
    if (!ea || !eb) return [`${a} / ${b}`, `≥ ${want}×`, 'not measured', '', '–'];
    const measured = ea.summary.rps / eb.summary.rps;
    const paired = ea.rounds.length === eb.rounds.length ? ea.rounds.map((m, i) => m.rps / eb.rounds[i].rps) : [];
    const perRound = paired.length ? `${ratio(median(paired), 1)} [${ratio(Math.min(...paired), 1)}–${ratio(Math.max(...paired), 1)}]` : '–';
    return [`${a} / ${b}`, `≥ ${want}×`, ratio(measured, 1), perRound, measured >= want ? 'met' : 'not met'];
  });
  log();
  log(table(['throughput target', 'wanted', 'measured', 'per round: median [min–max]', ''], rows));
}

/** The latency and memory targets (see bench/README.md), each with its measured value. MB = 10^6 bytes. */
function printExtraTargets(extras) {
  const MB_KIB = 1e6 / 1024;
  const memory = (label, kib, wantMb, extra = true) => {
    const wanted = `≤ ${wantMb} MB (${(wantMb * 1e6 / 2 ** 20).toFixed(1)} MiB)`;
    if (kib === undefined || kib === null) return [label, wanted, 'not measured', '–'];
    return [label, wanted, mib(kib), extra && kib <= wantMb * MB_KIB ? 'met' : 'not met'];
  };
  const rows = [];
  const l = extras.latency;
  if (l && !l.error) rows.push(['p99 added at ' + l.rate + ' req/s (over direct)', '≤ 2 ms', `+${ms(l.addedMs.p99)}`, l.addedMs.p99 <= 2 ? 'met' : 'not met']);
  else rows.push(['p99 added at a fixed rate', '≤ 2 ms', 'not measured', '–']);
  rows.push(memory('idle RSS (gateway-plain)', extras.gatewayIdleRssKiB, 80));
  const c = extras.connections;
  const allAnswered = c && !c.error && c.answered === c.count;
  rows.push(memory(`RSS holding ${c && !c.error ? int(c.count) : '10,000'} connections${c && !c.error && !allAnswered ? ` (${int(c.answered)} answered)` : ''}`, c && !c.error ? c.rssHeldKiB : null, 200, allAnswered));
  const u = extras.upload;
  rows.push(memory(`RSS growth, ${u && !u.error ? u.megabytes : 100} MiB upload`, u && !u.error ? u.rssPeakKiB - u.rssBeforeKiB : null, 30, Boolean(u && u.complete)));
  log();
  log(table(['latency and memory target', 'wanted', 'measured', ''], rows));
}

// ---------------------------------------------------------------------------------------------
// extra measurements against gateway-plain

/**
 * Latency at a fixed rate of each running system in `targets` ([name, running] pairs: direct,
 * gateway-plain and, when they run, bare-undici and nginx, which show what the proxy hop alone
 * costs on this machine), interleaved round by round.
 */
async function latencyAtRate(ctx, targets, opts) {
  const client = path.join(BENCH, 'clients', 'rate-client.js');
  const pools = Object.fromEntries(targets.map(([name]) => [name, []]));
  const rounds = Object.fromEntries(targets.map(([name]) => [name, []]));
  log();
  log(`latency at a fixed ${opts.rate} requests/s: ${opts.rounds} round(s) of ${opts.duration} s each, interleaved (bench/clients/rate-client.js)`);
  for (let r = 1; r <= opts.rounds; r++) {
    for (const [name, target] of targets) {
      const cpuBefore = procs.cpuSnapshot([target.pid, ...ctx.upstreams.map((u) => u.pid)]);
      const proc = procs.start('rate-client', process.execPath, [client, target.url, String(opts.rate), String(opts.duration), '1', '8']);
      const done = await procs.waitExit(proc, (opts.duration + 30) * 1000);
      const othersCpu = procs.othersShare(cpuBefore, procs.cpuSnapshot([target.pid, ...ctx.upstreams.map((u) => u.pid)]));
      if (!done || proc.code !== 0) {
        await procs.stop(proc);
        throw new Error(`rate client failed: ${procs.tail(proc.stderr) || 'timed out'}`);
      }
      const m = JSON.parse(proc.stdout.trim().split('\n').pop());
      const sorted = Float64Array.from(m.latenciesUs).sort();
      const p = (q) => percentile(sorted, q) / 1000;
      rounds[name].push({ sent: m.sent, ok: m.ok, failed: m.failed, clientLateMs: m.lateMs, p50: p(50), p99: p(99), othersCpu });
      for (const x of m.latenciesUs) pools[name].push(x);
      log(`round ${r}/${opts.rounds}  ${name.padEnd(13)}  ${m.ok}/${m.sent} ok  p50 ${ms(p(50))}  p99 ${ms(p(99))}${m.failed ? `  ${m.failed} failed` : ''}${others(othersCpu)}`);
    }
  }
  const out = { rate: opts.rate, seconds: opts.duration, systems: targets.map(([name]) => name), rounds };
  for (const name of Object.keys(pools)) {
    const sorted = Float64Array.from(pools[name]).sort();
    out[name] = { samples: sorted.length, p50: percentile(sorted, 50) / 1000, p90: percentile(sorted, 90) / 1000, p99: percentile(sorted, 99) / 1000, p999: percentile(sorted, 99.9) / 1000, max: sorted[sorted.length - 1] / 1000 };
  }
  out.addedMs = { p50: out['gateway-plain'].p50 - out.direct.p50, p99: out['gateway-plain'].p99 - out.direct.p99 };
  if (out['bare-undici']) {
    out.addedOverBareUndiciMs = { p50: out['gateway-plain'].p50 - out['bare-undici'].p50, p99: out['gateway-plain'].p99 - out['bare-undici'].p99 };
  }
  return out;
}

async function heldConnections(gw, opts) {
  const client = path.join(BENCH, 'clients', 'conn-client.js');
  const before = procs.rssKiB(gw.pid);
  log();
  log(`${opts.connCount.toLocaleString('en-US')} keep-alive connections held against gateway-plain, one request each (bench/clients/conn-client.js)`);
  const proc = procs.start('conn-client', process.execPath, [client, String(gw.port), '/samples/list', String(opts.connCount), '500', '3000'], { nofile: true });
  const deadline = Date.now() + 180_000;
  let held = null;
  let peak = before;
  while (Date.now() < deadline && !proc.exited) {
    const line = proc.stdout.split('\n').find((l) => l.includes('"phase":"held"'));
    if (line && !held) held = JSON.parse(line);
    if (held) peak = Math.max(peak, procs.rssKiB(gw.pid) ?? 0);
    await procs.sleep(100);
  }
  if (!proc.exited) {
    await procs.stop(proc);
    throw new Error('connection client did not finish within 180 s');
  }
  if (!held) throw new Error(`connection client failed: ${procs.tail(proc.stderr || proc.stdout)}`);
  const end = JSON.parse(proc.stdout.trim().split('\n').find((l) => l.includes('"phase":"end"')) || '{}');
  await procs.sleep(1000);
  const after = procs.rssKiB(gw.pid);
  const out = { count: opts.connCount, answered: held.answered, statuses: held.statuses, failed: held.failed, errors: held.errors, openAfterAnswers: held.open, stillOpenAfterHold: end.stillOpen, openingMs: held.ms, rssBeforeKiB: before, rssHeldKiB: peak, rssAfterCloseKiB: after };
  const ok = held.statuses['200'] || 0;
  log(`  answered ${held.answered}/${opts.connCount} (200: ${ok}${held.failed ? `, failed ${held.failed} ${JSON.stringify(held.errors)}` : ''}) in ${(held.ms / 1000).toFixed(1)} s; still open after 3 s: ${end.stillOpen}`);
  log(`  gateway RSS: before ${mib(before)}, holding ${mib(peak)} (+${((peak - before) / opts.connCount).toFixed(1)} KiB per connection), after closing ${mib(after)}`);
  return out;
}

/** One upload through `system` (gateway-plain, or bare-undici for comparison) to `url`, sampling its RSS. */
async function upload(system, name, url, opts) {
  const client = path.join(BENCH, 'clients', 'upload-client.js');
  const before = procs.rssKiB(system.pid);
  log();
  log(`${opts.uploadMb} MiB upload streamed through ${name} to the upstream, which discards it (bench/clients/upload-client.js)`);
  const proc = procs.start('upload-client', process.execPath, [client, url, String(opts.uploadMb)]);
  let peak = before;
  const deadline = Date.now() + 150_000;
  while (!proc.exited && Date.now() < deadline) {
    peak = Math.max(peak, procs.rssKiB(system.pid) ?? 0);
    await procs.sleep(20);
  }
  if (!proc.exited) {
    await procs.stop(proc);
    throw new Error('upload did not finish within 150 s');
  }
  const m = JSON.parse(proc.stdout.trim().split('\n').pop() || '{}');
  await procs.sleep(500);
  const after = procs.rssKiB(system.pid);
  const expected = Math.round(opts.uploadMb * 1024 * 1024);
  const out = { megabytes: opts.uploadMb, status: m.status, sent: m.sent, received: m.received, complete: m.received === expected, ms: m.ms, rssBeforeKiB: before, rssPeakKiB: peak, rssAfterKiB: after };
  log(`  status ${m.status}, upstream received ${int(m.received)} of ${int(expected)} bytes in ${m.ms} ms${m.error ? ` (${m.error})` : ''}${m.body ? ` ${m.body}` : ''}`);
  log(`  ${name} RSS: before ${mib(before)}, peak during upload ${mib(peak)} (+${mib(peak - before)}), after ${mib(after)}`);
  return out;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tool = load.chooseTool(opts.tool);
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracseq-bench-'));
  fs.chmodSync(workdir, 0o755);
  const cpuProf = opts.cpuProf ? fs.mkdtempSync(path.join(os.tmpdir(), 'tracseq-bench-prof-')) : null;
  const ctx = { tool, workdir, cpuProf, upstreams: [], log, redis: redisProvider(log) };
  const startedAt = new Date();
  const cpus = os.cpus();

  const loadAtStart = os.loadavg();
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await procs.stopAll();
    if (!opts.keep) fs.rmSync(workdir, { recursive: true, force: true });
  };
  cleanupOnError = cleanup;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      log(`\n${signal}: stopping every child process`);
      stopping = true;
      cleanup().finally(() => process.exit(130));
    });
  }
  // A run has a hard upper bound, whatever hangs.
  const watchdog = setTimeout(() => {
    log('\nthe benchmark exceeded 30 minutes; stopping');
    cleanup().finally(() => process.exit(1));
  }, 30 * 60_000);
  watchdog.unref();

  log('TracSeq gateway benchmark');
  log(`  load generator: ${tool.describe}${tool.name === 'wrk' ? '' : '  (wrk is not on PATH; apt-get install -y wrk)'}`);
  log(`  ${opts.rounds} round(s) × ${opts.duration} s per system, interleaved; warm-up ${opts.warmup} s`);
  log(`  node ${process.version}, ${cpus.length} × ${cpus[0] ? cpus[0].model.trim() : 'cpu'}, load average ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}`);
  const idleCheck = procs.cpuSnapshot([]);
  await procs.sleep(1000);
  const busyBefore = procs.othersShare(idleCheck, procs.cpuSnapshot([]));
  log(`  other processes use ${busyBefore === null ? '?' : Math.round(busyBefore * 100)}% of the CPU right now${busyBefore > 0.1 ? ': expect noisy numbers (each run below shows the share it had to compete with)' : ''}`);
  log(`  temp dir: ${workdir}${opts.keep ? ' (kept)' : ''}`);
  log();

  const wanted = SYSTEMS.filter((s) => !opts.only || opts.only.includes(s.name));
  const results = {};
  const toStart = [];
  for (const sys of wanted) {
    results[sys.name] = { about: sys.about, egPeer: sys.egPeer || 'express-gateway', status: 'measured', rounds: [], errors: [] };
    if (sys.skip) Object.assign(results[sys.name], { status: 'skipped', reason: sys.skip });
    else if (sys.peers && !opts.peers) Object.assign(results[sys.name], { status: 'not run', reason: 'add --peers' });
    else toStart.push(sys);
  }

  const upstreamCount = Math.max(1, ...toStart.map((s) => s.upstreams ?? 1));
  for (let i = 0; i < upstreamCount; i++) {
    const port = await procs.freePort();
    const proc = procs.start(`upstream-${i + 1}`, process.execPath, [path.join(BENCH, 'upstream.js'), String(port)]);
    await procs.waitForHttp(proc, port, '/health');
    ctx.upstreams.push({ proc, pid: proc.pid, url: `http://127.0.0.1:${port}` });
  }
  log(`upstream: bench/upstream.js on ${ctx.upstreams.map((u) => u.url).join(', ')}`);

  const active = [];
  for (const sys of wanted) {
    const entry = results[sys.name];
    if (entry.status !== 'measured') {
      log(`${sys.name}: ${entry.status}: ${entry.reason}`);
      continue;
    }
    try {
      const running = await startSystem(sys, ctx);
      if (running.unavailable) {
        Object.assign(entry, { status: 'unavailable', reason: running.unavailable });
        log(`${sys.name}: unavailable: ${running.unavailable}`);
        continue;
      }
      entry.startupRssKiB = running.startupRssKiB;
      entry.url = running.url;
      active.push({ sys, running });
      log(`${sys.name}: ${running.url}  (ready in ${running.startMs} ms, RSS ${mib(running.startupRssKiB)} a second later)`);
    } catch (err) {
      Object.assign(entry, { status: 'failed to start', reason: err.message.split('\n')[0] });
      log(`${sys.name}: failed to start: ${err.message}`);
    }
  }
  if (active.length) await readSettledIdleRss(active, results);
  log();

  if (active.length) await throughput(ctx, active, opts, results);
  summarize(results);
  printTable(results, opts);
  printTargets(results);

  const extras = {};
  const byName = (n) => active.find((s) => s.sys.name === n && !s.dead);
  const gw = byName('gateway-plain');
  const direct = byName('direct');
  if (gw) {
    extras.gatewayIdleRssKiB = results['gateway-plain'].idleRssKiB;
    extras.gatewayStartupRssKiB = results['gateway-plain'].startupRssKiB;
    log();
    log(`gateway-plain RSS: ${mib(extras.gatewayStartupRssKiB)} a second after start-up, ${mib(extras.gatewayIdleRssKiB)} idle (${IDLE_SETTLE_MS / 1000} s later)`);
  }
  const extra = async (name, enabled, needs, fn) => {
    if (!enabled) return;
    if (needs.some((n) => !n)) { log(`\n${name}: skipped (needs ${name === 'latency' ? 'direct and gateway-plain' : 'gateway-plain'})`); return; }
    try { extras[name] = await fn(); } catch (err) { extras[name] = { error: err.message }; log(`  ${name} failed: ${err.message}`); }
  };
  const latencyTargets = ['direct', 'bare-undici', 'nginx', 'gateway-plain'].map((n) => [n, byName(n)]).filter(([, s]) => s).map(([n, s]) => [n, s.running]);
  await extra('latency', opts.latency, [gw, direct], () => latencyAtRate(ctx, latencyTargets, opts));
  if (extras.latency && !extras.latency.error) {
    const l = extras.latency;
    log(table(['at ' + l.rate + ' req/s', 'p50', 'p90', 'p99', 'p99.9', 'max'], l.systems.map((n) => [n, ms(l[n].p50), ms(l[n].p90), ms(l[n].p99), ms(l[n].p999), ms(l[n].max)])));
    log(`  added by the gateway: p50 +${ms(l.addedMs.p50)}, p99 +${ms(l.addedMs.p99)} over direct`);
    const overBare = l.addedOverBareUndiciMs;
    if (overBare) log(`                        p50 ${signedMs(overBare.p50)}, p99 ${signedMs(overBare.p99)} over bare-undici (the same proxy hop without the gateway's features)`);
  }
  await extra('upload', opts.upload, [gw], () => upload(gw.running, 'gateway-plain', `http://127.0.0.1:${gw.running.port}/upload/file`, opts));
  // The same upload through the bare engine: what node and undici alone grow by.
  const bare = byName('bare-undici');
  if (bare) await extra('uploadBareUndici', opts.upload, [bare], () => upload(bare.running, 'bare-undici', bare.running.url.replace(/\/samples\/.*$/, '/samples/upload'), opts));
  await extra('connections', opts.connections, [gw], () => heldConnections(gw.running, opts));

  printExtraTargets(extras);

  if (gw && gw.running.files) {
    try { extras.gatewayStdoutBytes = fs.statSync(gw.running.files.accessLog).size; } catch { /* removed */ }
  }

  await cleanup();
  if (cpuProf) {
    log(`\nCPU profile of the gateway (whole run, including start-up): ${cpuProf}/ (open in Chrome DevTools or speedscope)`);
    for (const f of fs.readdirSync(cpuProf).filter((n) => n.endsWith('.cpuprofile'))) {
      try { log(require('./lib/profile').summarize(path.join(cpuProf, f)).join('\n')); } catch (err) { log(`  cannot read ${f}: ${err.message}`); }
    }
  }

  const file = path.join(BENCH, 'results', `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus: cpus.length, cpuModel: cpus[0] ? cpus[0].model.trim() : null, memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadAverageAtStart: loadAtStart, othersCpuAtStart: busyBefore, platform: `${os.platform()} ${os.release()}` },
    versions: versions(tool),
    options: { ...opts, tool: tool.name, connectionsPerRun: load.CONNECTIONS },
    throughput: results,
    extras,
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  log(`\nresults: ${path.relative(process.cwd(), file)}`);
}

let cleanupOnError = () => procs.stopAll();
process.on('exit', () => procs.killAllNow());
main().then(() => process.exit(0), async (err) => {
  process.stderr.write(err.usage ? `${err.message}\n` : `\nbenchmark failed: ${err.stack || err.message}\n`);
  await cleanupOnError();
  process.exit(err.usage ? 2 : 1);
});
