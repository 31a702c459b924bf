'use strict';
// Many concurrent keep-alive connections: opens `count` sockets in batches of `batch`, each sends
// one GET and reads the whole answer, and keeps the connection open. When all are done it prints
// { phase: "held", ... }, holds them for `holdMs`, prints { phase: "end", stillOpen } and closes all.
// Needs a file limit above `count` (bench/run.js raises it with `ulimit -n`).
// Usage: node conn-client.js <port> <path> <count> [batch=500] [holdMs=3000]
const net = require('node:net');

const [portArg, path, countArg, batchArg = '500', holdArg = '3000'] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const batch = Number(batchArg);
const holdMs = Number(holdArg);
const REQUEST = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`);

const sockets = [];
const statuses = {};
const errors = {};
let answered = 0;
let failed = 0;
let open = 0;

/** Resolves when the answer is complete (content-length or chunked), or the socket failed. */
function connectOne() {
  return new Promise((resolve) => {
    let buf = '';
    let settled = false;
    const settle = (status, err) => {
      if (settled) return;
      settled = true;
      if (err) { failed++; errors[err] = (errors[err] || 0) + 1; } else { answered++; statuses[status] = (statuses[status] || 0) + 1; }
      resolve();
    };
    const socket = net.connect({ port, host: '127.0.0.1' }, () => { socket.counted = true; open++; socket.write(REQUEST); });
    socket.setTimeout(15_000, () => { settle(0, 'timeout'); socket.destroy(); });
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      if (settled) return;
      buf += chunk;
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.slice(0, end);
      const status = Number(head.slice(9, 12));
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const complete = length ? buf.length - end - 4 >= Number(length[1]) : buf.endsWith('0\r\n\r\n');
      if (complete) { socket.setTimeout(0); settle(status); buf = ''; }
    });
    socket.on('error', (e) => settle(0, e.code || e.message));
    socket.on('close', () => { if (socket.counted) open--; settle(0, 'closed before the answer'); });
    sockets.push(socket);
  });
}

(async () => {
  const t0 = Date.now();
  for (let i = 0; i < count; i += batch) {
    const wave = [];
    for (let j = i; j < Math.min(count, i + batch); j++) wave.push(connectOne());
    await Promise.all(wave);
  }
  const openedMs = Date.now() - t0;
  process.stdout.write(JSON.stringify({ phase: 'held', count, answered, failed, statuses, errors, open, ms: openedMs }) + '\n');
  await new Promise((r) => setTimeout(r, holdMs));
  process.stdout.write(JSON.stringify({ phase: 'end', stillOpen: open }) + '\n');
  for (const s of sockets) s.destroy();
  process.exit(0);
})();
