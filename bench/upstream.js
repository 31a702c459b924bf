'use strict';
// The upstream every system proxies to: a small JSON answer for any GET, and for a request with a
// body, the body is read and thrown away and its size is answered (the upload measurement checks it).
// Usage: node bench/upstream.js <port>   (prints "listening <port>" when ready)
const http = require('node:http');

const BODY = JSON.stringify({ id: 'S-000123', type: 'blood', status: 'stored', location: 'freezer-2/rack-4' });
const LENGTH = String(Buffer.byteLength(BODY));

const server = http.createServer((req, res) => {
  if (req.method === 'GET' || req.method === 'HEAD') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': LENGTH });
    res.end(req.method === 'HEAD' ? undefined : BODY);
    return;
  }
  let received = 0;
  req.on('data', (chunk) => { received += chunk.length; });
  req.on('end', () => {
    const answer = JSON.stringify({ received });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.keepAliveTimeout = 120_000;
server.listen(Number(process.argv[2] || 9001), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
