'use strict';
// One large upload: POSTs `megabytes` MiB with a Content-Length, written in 64 KiB chunks with
// backpressure (the client itself stays small), and reads the upstream's answer { received }.
// Usage: node upload-client.js <url> <megabytes>
// Prints one JSON line: { status, sent, received, ms }.
const http = require('node:http');

const [url, mbArg] = process.argv.slice(2);
const total = Number(mbArg) * 1024 * 1024;
const chunk = Buffer.alloc(64 * 1024, 'a');
const t0 = Date.now();

const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': total } }, (res) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d) => { body += d; });
  res.on('end', () => {
    let received = null;
    try { received = JSON.parse(body).received; } catch { /* not the upstream's answer */ }
    process.stdout.write(JSON.stringify({ status: res.statusCode, sent, received, ms: Date.now() - t0, body: received === null ? body.slice(0, 300) : undefined }) + '\n');
    process.exit(0);
  });
});
req.setTimeout(120_000, () => req.destroy(new Error('timeout after 120 s')));
req.on('error', (e) => {
  process.stdout.write(JSON.stringify({ status: 0, sent, error: e.message, ms: Date.now() - t0 }) + '\n');
  process.exit(1);
});

let sent = 0;
function write() {
  while (sent < total) {
    const piece = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
    sent += piece.length;
    if (!req.write(piece)) { req.once('drain', write); return; }
  }
  req.end();
}
write();
