import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** One request exactly as it arrived on the upstream's socket, parsed by the strict parser below. */
export interface WireRequest {
  connection: number;
  method: string;
  target: string;
  /** Header fields in arrival order, names as sent (not lowercased). */
  headers: [string, string][];
  body: Buffer;
}

export interface WireUpstream {
  port: number;
  url: string;
  /** Complete, well-formed requests, in arrival order. */
  requests: WireRequest[];
  /** Bytes that broke HTTP/1.1 framing, with the reason: a gateway must never send these. */
  malformed: { connection: number; reason: string; head: string }[];
  close(): Promise<void>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP\/1\.1$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Header values of `request` named `name` (case-insensitive). */
export function headerValues(request: WireRequest, name: string): string[] {
  const lower = name.toLowerCase();
  return request.headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

type Parsed = { request: Omit<WireRequest, 'connection'>; consumed: number } | { incomplete: true } | { error: string };

/** Chunked body per RFC 9112 §7.1, strictly: hex sizes without extensions, CRLF everywhere. */
function parseChunked(buf: Buffer, start: number): { body: Buffer; end: number } | 'incomplete' | string {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd < 0) return buf.length - at > 64 ? 'chunk size line too long' : 'incomplete';
    const sizeText = buf.toString('latin1', at, lineEnd);
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return `bad chunk size ${JSON.stringify(sizeText)}`;
    const size = parseInt(sizeText, 16);
    at = lineEnd + 2;
    if (size === 0) {
      // Trailer section: field lines, then an empty line.
      for (;;) {
        const end = buf.indexOf('\r\n', at);
        if (end < 0) return 'incomplete';
        if (end === at) return { body: Buffer.concat(parts), end: end + 2 };
        at = end + 2;
      }
    }
    if (buf.length < at + size + 2) return 'incomplete';
    parts.push(buf.subarray(at, at + size));
    if (buf[at + size] !== 13 || buf[at + size + 1] !== 10) return 'chunk data not followed by CRLF';
    at += size + 2;
  }
}

/** Parses one request at the start of `buf` with no leniency at all (where node's parser has some). */
function parseRequest(buf: Buffer): Parsed {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return buf.length > 256 * 1024 ? { error: 'head too long' } : { incomplete: true };
  const head = buf.toString('latin1', 0, headEnd);
  if (/[^\r]\n|^\n|\r(?!\n)/.test(head)) return { error: 'bare CR or LF in the head' };
  const [requestLine, ...lines] = head.split('\r\n');
  const line = REQUEST_LINE.exec(requestLine);
  if (!line) return { error: `bad request line ${JSON.stringify(requestLine.slice(0, 200))}` };
  const headers: [string, string][] = [];
  for (const l of lines) {
    if (l.startsWith(' ') || l.startsWith('\t')) return { error: 'obs-fold' };
    const colon = l.indexOf(':');
    const name = colon > 0 ? l.slice(0, colon) : '';
    if (!TOKEN.test(name)) return { error: `bad field name ${JSON.stringify(l.slice(0, 100))}` };
    const value = l.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!FIELD_VALUE.test(value)) return { error: `bad field value in ${name}` };
    headers.push([name, value]);
  }
  const named = (n: string) => headers.filter(([h]) => h.toLowerCase() === n).map(([, v]) => v);
  const hosts = named('host');
  if (hosts.length !== 1) return { error: `${hosts.length} Host fields` };
  const te = named('transfer-encoding');
  const cl = named('content-length');
  if (te.length > 0 && cl.length > 0) return { error: 'both Transfer-Encoding and Content-Length' };
  const bodyStart = headEnd + 4;
  const base = { method: line[1], target: line[2], headers };
  if (te.length > 0) {
    if (te.length !== 1 || te[0].toLowerCase() !== 'chunked') return { error: `Transfer-Encoding ${JSON.stringify(te)}` };
    const chunked = parseChunked(buf, bodyStart);
    if (chunked === 'incomplete') return { incomplete: true };
    if (typeof chunked === 'string') return { error: chunked };
    return { request: { ...base, body: chunked.body }, consumed: chunked.end };
  }
  if (cl.length > 1) return { error: 'several Content-Length fields' };
  const length = cl.length === 1 ? cl[0] : '0';
  if (!/^\d{1,15}$/.test(length)) return { error: `Content-Length ${JSON.stringify(length)}` };
  const size = Number(length);
  if (buf.length < bodyStart + size) return { incomplete: true };
  return { request: { ...base, body: buf.subarray(bodyStart, bodyStart + size) }, consumed: bodyStart + size };
}

/**
 * An upstream that reads its own wire instead of trusting node's http parser: what it records is
 * exactly what the gateway sent. It answers every well-formed request with 200 and a JSON echo
 * (`/big/<bytes>` answers that many bytes, for clients that read slowly), and closes the connection
 * on anything malformed, recording why.
 */
export async function startWireUpstream(): Promise<WireUpstream> {
  const requests: WireRequest[] = [];
  const malformed: WireUpstream['malformed'] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const parsed = parseRequest(buffered);
        if ('incomplete' in parsed) return;
        if ('error' in parsed) {
          malformed.push({ connection, reason: parsed.error, head: buffered.toString('latin1', 0, 300) });
          socket.destroy();
          return;
        }
        buffered = buffered.subarray(parsed.consumed);
        const request = { connection, ...parsed.request };
        requests.push(request);
        answer(socket, request);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    malformed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function answer(socket: Socket, request: WireRequest): void {
  const big = /^\/[^/]+\/big\/(\d+)$/.exec(request.target);
  if (big) {
    const size = Number(big[1]);
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`);
    socket.write(Buffer.alloc(size, 0x61));
    return;
  }
  const body = JSON.stringify({ method: request.method, target: request.target, headers: request.headers, bodyLength: request.body.length });
  socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
