'use strict';
// Reference: the common Express way. Express 5 and http-proxy-middleware 3 with a keep-alive agent
// (without one every request opens a new upstream connection) and the hop-by-hop Connection header
// dropped, as DEPENDENCIES.md recommends.
// Usage: node bench/express-hpm.js <port> <upstream origin>
const http = require('node:http');
const express = require('express');
const { createProxyMiddleware } = require('http-proxy-middleware');

const app = express();
app.disable('x-powered-by');
app.use('/samples', createProxyMiddleware({
  target: process.argv[3],
  agent: new http.Agent({ keepAlive: true, maxSockets: 128 }),
  pathRewrite: (path) => '/api/v1' + path,
  on: { proxyReq: (proxyReq) => proxyReq.removeHeader('connection') },
}));
const server = app.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => process.exit(0));
