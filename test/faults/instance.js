'use strict';
/**
 * One instance of a lab service for the fault suite, in its own process so that SIGKILL is a real
 * process death (sockets reset by the kernel, nothing flushed). Plain CommonJS: it runs under node
 * directly, without the test transpiler.
 *
 * FAULT_MODE (also switchable at run time by an IPC message { mode }):
 *   ok           answers at once (after DELAY_MS)
 *   hang         reads requests, never answers (health checks too)
 *   drip         answers one byte every 20 ms, head included: slower than any route timeout
 *   reset-third  every third connection is reset (TCP RST) when its first request arrives; the
 *                others answer with Connection: close, so every request comes on a new connection
 * The instance tells its parent its port by an IPC message { port } once listening.
 */
const http = require('node:http');

const name = process.env.INSTANCE_NAME || 'instance';
const delayMs = Number(process.env.DELAY_MS || 0);
let mode = process.env.FAULT_MODE || 'ok';
let connections = 0;

function drip(socket, bytes) {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= bytes.length) {
      clearInterval(timer);
      return;
    }
    socket.write(bytes.subarray(i, i + 1));
    i++;
  }, 20);
  socket.on('close', () => clearInterval(timer));
}

const server = http.createServer((req, res) => {
  if (mode === 'hang') {
    req.resume();
    return;
  }
  if (mode === 'reset-third' && req.socket.resetEveryThird) {
    req.socket.resetAndDestroy();
    return;
  }
  let bytes = 0;
  req.on('data', (c) => (bytes += c.length));
  req.on('end', () => {
    const body = JSON.stringify({ instance: name, method: req.method, bytes });
    if (mode === 'drip') {
      const raw = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Instance: ${name}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      drip(req.socket, Buffer.from(raw));
      return;
    }
    const send = () => {
      if (mode === 'reset-third') res.setHeader('connection', 'close');
      res.writeHead(200, { 'content-type': 'application/json', 'x-instance': name });
      res.end(body);
    };
    if (delayMs > 0) setTimeout(send, delayMs);
    else send();
  });
});
server.keepAliveTimeout = 60_000;
server.on('connection', (socket) => {
  connections++;
  socket.resetEveryThird = connections % 3 === 0;
});
process.on('message', (message) => {
  if (message && typeof message.mode === 'string') mode = message.mode;
  // Pooled keep-alive connections would outlive the switch: the gateway has to connect anew.
  if (mode === 'reset-third') server.closeIdleConnections();
});
// The parent going away (a test that failed) must not leave instances behind.
process.on('disconnect', () => process.exit(0));
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.send({ port: server.address().port });
});
