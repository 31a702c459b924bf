'use strict';
// Fixed-rate load: sends `rate` GET requests per second over a few keep-alive connections and
// times each one with a microsecond clock (autocannon rounds latencies to whole milliseconds,
// too coarse for the gateway's overhead). Each request is timed from the moment it is issued, so
// waiting for a free connection behind a slow answer counts as latency; how late the client's own
// timer fired is reported apart (lateMs), as it is no part of the server's latency.
// Usage: node rate-client.js <url> <rate> <seconds> [warmupSeconds=1] [connections=16]
// Prints one JSON line: { sent, ok, failed, lateMs, latenciesUs: [...] }.
const http = require('node:http');

const [url, rateArg, secondsArg, warmupArg = '1', connArg = '16'] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const warmup = Number(warmupArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(connArg) });
const target = new URL(url);

function once(record, result) {
  const startNs = process.hrtime.bigint();
  const req = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, agent }, (res) => {
    res.resume();
    res.on('end', () => {
      const us = Number(process.hrtime.bigint() - startNs) / 1000;
      if (!record) return;
      if (res.statusCode === 200) result.latenciesUs.push(Math.round(us));
      else result.failed++;
    });
  });
  req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  req.on('error', () => { if (record) result.failed++; });
  req.end();
}

/** Sends at `rate` per second for `secs`; each tick sends every request that is due. */
function phase(secs, record) {
  return new Promise((resolve) => {
    const result = { sent: 0, failed: 0, lateMs: 0, latenciesUs: [] };
    const total = Math.round(rate * secs);
    const intervalNs = 1e9 / rate;
    const t0 = process.hrtime.bigint();
    let i = 0;
    const tick = () => {
      const now = process.hrtime.bigint();
      while (i < total && t0 + BigInt(Math.round(i * intervalNs)) <= now) {
        const scheduled = t0 + BigInt(Math.round(i * intervalNs));
        result.lateMs = Math.max(result.lateMs, Number(now - scheduled) / 1e6);
        once(record, result);
        result.sent++;
        i++;
      }
      if (i < total) {
        const nextNs = Number(t0 + BigInt(Math.round(i * intervalNs)) - process.hrtime.bigint());
        setTimeout(tick, Math.max(0, Math.floor(nextNs / 1e6)));
        return;
      }
      // Wait (bounded) for the last answers.
      const deadline = Date.now() + 10_000;
      const drain = () => {
        if (result.latenciesUs.length + result.failed >= result.sent || Date.now() > deadline) resolve(result);
        else setTimeout(drain, 10);
      };
      drain();
    };
    tick();
  });
}

(async () => {
  if (warmup > 0) await phase(warmup, false);
  const result = await phase(seconds, true);
  result.ok = result.latenciesUs.length;
  process.stdout.write(JSON.stringify(result) + '\n');
  agent.destroy();
  process.exit(0);
})();
