'use strict';
// Reference: the least a node proxy can do with the gateway's own engine. A node http server, one
// undici Pool and a dispatch handler that writes the answer straight into the response (as the
// gateway's proxy stage does), the /samples prefix rewritten to /api/v1, hop-by-hop headers
// dropped, bodies streamed both ways, 502 on failure. Usage: node bench/bare-undici.js <port> <upstream origin>
const http = require('node:http');
const { Pool } = require('undici');

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer', 'host']);
const pool = new Pool(process.argv[3], { connections: 128 });

class Relay {
  constructor(res) { this.res = res; this.resume = null; this.abort = null; }
  onConnect(abort) { this.abort = abort; }
  onHeaders(status, raw, resume) {
    const out = {};
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toString('latin1').toLowerCase();
      if (!HOP.has(name)) out[name] = raw[i + 1].toString('latin1');
    }
    this.res.writeHead(status, out);
    this.resume = resume;
    return true;
  }
  onData(chunk) { return this.res.write(chunk) || (this.res.once('drain', this.resume), false); }
  onComplete() { this.res.end(); }
  onError() { if (this.res.headersSent) this.res.destroy(); else if (!this.res.destroyed) { this.res.statusCode = 502; this.res.end(); } }
}

const server = http.createServer((req, res) => {
  const headers = {};
  for (const k in req.headers) if (!HOP.has(k)) headers[k] = req.headers[k];
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const relay = new Relay(res);
  res.once('close', () => { if (!res.writableFinished) relay.abort?.(); }); // the client left: cancel upstream
  pool.dispatch({ path: '/api/v1' + req.url.slice('/samples'.length), method: req.method, headers, body: hasBody ? req : null }, relay);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
