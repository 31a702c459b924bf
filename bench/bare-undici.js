'use strict';
// Reference: the least a node proxy can do. A node http server, one undici Pool, the /samples prefix
// rewritten to /api/v1, hop-by-hop headers dropped, bodies streamed both ways, 502 on failure.
// Usage: node bench/bare-undici.js <port> <upstream origin>
const http = require('node:http');
const { pipeline } = require('node:stream');
const { Pool } = require('undici');

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer', 'host']);
const pool = new Pool(process.argv[3], { connections: 128 });

const server = http.createServer((req, res) => {
  const headers = {};
  for (const k in req.headers) if (!HOP.has(k)) headers[k] = req.headers[k];
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.request({ path: '/api/v1' + req.url.slice('/samples'.length), method: req.method, headers, body: hasBody ? req : null }).then(
    (up) => {
      const out = {};
      for (const k in up.headers) if (!HOP.has(k)) out[k] = up.headers[k];
      res.writeHead(up.statusCode, out);
      pipeline(up.body, res, () => {});
    },
    () => { res.statusCode = 502; res.end(); },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
