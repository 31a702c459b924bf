'use strict';
// Child processes of the benchmark: started in their own process group, tracked, and always
// stopped (on success, on error and on SIGINT/SIGTERM). Every wait has a deadline.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');

const children = new Set();

/** File-descriptor limit for children that hold many sockets (10k connections test). */
const NOFILE = 65536;

function onPath(command) {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Starts a child in its own process group. `nofile` raises its file limit through the shell's
 * `ulimit -n` (the hard limit can be raised as root; otherwise the current hard limit is used).
 * `stdout` may be 'pipe', 'ignore' or an open file descriptor.
 */
function start(name, command, args, { env = process.env, cwd, stdout = 'pipe', nofile = false } = {}) {
  let cmd = command;
  let argv = args;
  if (nofile) {
    cmd = 'sh';
    argv = ['-c', `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`, 'sh', command, ...args];
  }
  const child = spawn(cmd, argv, { env, cwd, stdio: ['ignore', stdout, 'pipe'], detached: true });
  const proc = { name, child, pid: child.pid, stderr: '', stdout: '', exited: false, code: null, signal: null };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { if (proc.stderr.length < 64_000) proc.stderr += d; });
  if (child.stdout) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { if (proc.stdout.length < 64_000) proc.stdout += d; });
  }
  proc.done = new Promise((resolve) => {
    child.on('error', (err) => { proc.stderr += String(err.message); proc.exited = true; children.delete(proc); resolve(proc); });
    child.on('exit', (code, signal) => {
      proc.exited = true; proc.code = code; proc.signal = signal; children.delete(proc); resolve(proc);
    });
  });
  children.add(proc);
  return proc;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits for a child to exit, at most `ms`: resolves to the child, or null on timeout. */
function waitExit(proc, ms) {
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), ms); });
  return Promise.race([proc.done, timeout]).finally(() => clearTimeout(timer));
}

function killGroup(proc, signal) {
  try { process.kill(-proc.pid, signal); } catch { try { process.kill(proc.pid, signal); } catch { /* gone */ } }
}

/** SIGTERM, then SIGKILL after `graceMs`. */
async function stop(proc, graceMs = 5000) {
  if (!proc || proc.exited) return;
  killGroup(proc, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (!proc.exited && Date.now() < deadline) await sleep(25);
  if (!proc.exited) {
    killGroup(proc, 'SIGKILL');
    await waitExit(proc, 2000);
  }
}

async function stopAll() {
  await Promise.all([...children].map((p) => stop(p)));
}

/** Last resort on exit: no child outlives the benchmark. */
function killAllNow() {
  for (const p of children) killGroup(p, 'SIGKILL');
}

/**
 * A port that was free a moment ago (the child binds it right after). Taken below the ephemeral
 * range (32768+ on Linux), where servers listening on port 0 and outgoing connections of other
 * programs on the machine pick theirs, so a concurrently running test suite rarely collides.
 */
async function freePort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port found between 20000 and 32000');
}

/** Waits until `port` answers HTTP `path` with any status below 500, or fails after `timeoutMs`. */
async function waitForHttp(proc, port, path = '/', timeoutMs = 15_000) {
  const http = require('node:http');
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc && proc.exited) throw new Error(`${proc.name} exited (code ${proc.code}, signal ${proc.signal}) before it answered:\n${tail(proc.stderr)}`);
    const status = await new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 1000 }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => { last = e.message; resolve(0); });
    });
    if (status > 0 && status < 500) return status;
    if (status) last = `status ${status}`;
    await sleep(100);
  }
  throw new Error(`${proc ? proc.name : 'server'} did not answer on port ${port} within ${timeoutMs} ms (${last})${proc ? `\n${tail(proc.stderr)}` : ''}`);
}

/** Resident set size of a process in KiB (VmRSS), or null when it cannot be read. */
function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** RSS of a process and all its descendants (nginx: master + worker), in KiB. */
function treeRssKiB(pid) {
  let total = rssKiB(pid);
  if (total === null) return null;
  let kids = [];
  try { kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean); } catch { /* none */ }
  for (const k of kids) total += treeRssKiB(Number(k)) ?? 0;
  return total;
}

/** utime+stime+cutime+cstime of one process, in clock ticks (0 when it is gone). */
function cpuTicks(pid, withChildren = false) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields from "state" on: utime is the 12th, stime 13th, cutime 14th, cstime 15th
    return Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
  } catch {
    return 0;
  }
}

function treePids(pid) {
  let kids = [];
  try { kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { /* none */ }
  return [pid, ...kids.flatMap(treePids)];
}

/**
 * CPU accounting around one measurement: how much of the machine went to processes that are not
 * part of it (another job on the same machine makes the numbers noisy). `pids` are the running
 * processes of the measurement (and their children); finished children of this process (the load
 * generator) are counted through this process's cutime/cstime.
 */
function cpuSnapshot(pids) {
  let machine = { busy: 0, total: 0 };
  try {
    const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = v;
    const busy = user + nice + system + irq + softirq + steal;
    machine = { busy, total: busy + idle + iowait };
  } catch { /* not Linux */ }
  const all = new Set(pids.filter(Boolean).flatMap(treePids));
  let ours = cpuTicks(process.pid, true);
  for (const pid of all) ours += cpuTicks(pid);
  return { ...machine, ours };
}

/** Share of the machine's CPU used by other processes between two snapshots (0..1). */
function othersShare(before, after) {
  const total = after.total - before.total;
  if (total <= 0) return null;
  const others = after.busy - before.busy - (after.ours - before.ours);
  return Math.max(0, others / total);
}

/** The last lines of a child's output, for error messages. */
function tail(text, lines = 12) {
  return String(text || '').trim().split('\n').slice(-lines).join('\n');
}

module.exports = { onPath, start, waitExit, stop, stopAll, killAllNow, freePort, waitForHttp, rssKiB, treeRssKiB, cpuSnapshot, othersShare, sleep, tail, NOFILE };
