import { connect, type Socket } from 'node:net';

/** One HTTP response as parsed off the raw socket. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawExchange {
  responses: WireResponse[];
  /** Whether the server closed (or reset) the connection before we gave up waiting. */
  closed: boolean;
  /** Milliseconds from the first byte sent to the close, when it closed. */
  closedAfterMs?: number;
}

/**
 * Parses as many complete responses as `buf` holds. 1xx answers are kept (a client sees them);
 * a body without a length runs to the close of the connection.
 */
export function parseResponses(buf: Buffer, connectionClosed: boolean, headRequest = false): WireResponse[] {
  const out: WireResponse[] = [];
  let at = 0;
  while (at < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', at);
    if (headEnd < 0) break;
    const [statusLine, ...lines] = buf.toString('latin1', at, headEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const colon = l.indexOf(':');
      if (colon > 0) {
        const name = l.slice(0, colon).trim().toLowerCase();
        headers[name] = headers[name] === undefined ? l.slice(colon + 1).trim() : `${headers[name]}, ${l.slice(colon + 1).trim()}`;
      }
    }
    let bodyStart = headEnd + 4;
    // Answers to HEAD, 1xx, 204 and 304 have no body whatever their length fields say.
    if (headRequest || status === 204 || status === 304) {
      out.push({ status, headers, body: Buffer.alloc(0) });
      at = bodyStart;
      continue;
    }
    if (status >= 100 && status < 200) {
      out.push({ status, headers, body: Buffer.alloc(0) });
      at = bodyStart;
      continue;
    }
    if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const parts: Buffer[] = [];
      let complete = false;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', bodyStart);
        if (lineEnd < 0) break;
        const size = parseInt(buf.toString('latin1', bodyStart, lineEnd), 16);
        if (Number.isNaN(size)) break;
        if (size === 0) {
          // The last chunk's line, any trailer fields, then an empty line.
          const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd);
          if (trailerEnd < 0) break;
          bodyStart = trailerEnd + 4;
          complete = true;
          break;
        }
        if (buf.length < lineEnd + 2 + size + 2) break;
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        bodyStart = lineEnd + 2 + size + 2;
      }
      if (!complete) break;
      out.push({ status, headers, body: Buffer.concat(parts) });
      at = bodyStart;
      continue;
    }
    const length = headers['content-length'];
    if (length !== undefined) {
      const end = bodyStart + Number(length);
      if (buf.length < end) break;
      out.push({ status, headers, body: buf.subarray(bodyStart, end) });
      at = end;
      continue;
    }
    if (!connectionClosed) break;
    out.push({ status, headers, body: buf.subarray(bodyStart) });
    at = buf.length;
  }
  return out;
}

export interface ExchangeOptions {
  port: number;
  host?: string;
  /** Source address (any 127.0.0.0/8 address is local). */
  localAddress?: string;
  /** The bytes to send, in pieces; `pauseMs` between pieces. */
  pieces: Buffer[];
  pauseMs?: number;
  /** Stop waiting once this many final (non-1xx) responses are complete. */
  expectResponses?: number;
  /** Give up after this long with the connection still open. */
  waitMs?: number;
  /** After the expected responses, keep listening this long to catch extra bytes or a close. */
  lingerMs?: number;
}

/** Sends raw bytes on a fresh TCP connection and collects what comes back. */
export function exchange(options: ExchangeOptions): Promise<RawExchange> {
  const { pieces, pauseMs = 0, expectResponses = 1, waitMs = 3000, lingerMs = 0 } = options;
  const headRequest = pieces[0]?.subarray(0, 5).toString('latin1') === 'HEAD ';
  return new Promise((resolve) => {
    const socket: Socket = connect({ port: options.port, host: options.host ?? '127.0.0.1', localAddress: options.localAddress });
    const chunks: Buffer[] = [];
    let closed = false;
    let started = 0;
    let closedAfterMs: number | undefined;
    let done = false;
    let lingerTimer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(giveUp);
      clearTimeout(lingerTimer);
      socket.destroy();
      resolve({ responses: parseResponses(Buffer.concat(chunks), closed, headRequest), closed, closedAfterMs });
    };
    const giveUp = setTimeout(finish, waitMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const finals = parseResponses(Buffer.concat(chunks), false, headRequest).filter((r) => r.status >= 200);
      if (finals.length >= expectResponses && !lingerTimer) lingerTimer = setTimeout(finish, lingerMs);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      closedAfterMs = performance.now() - started;
      finish();
    });
    socket.on('connect', async () => {
      started = performance.now();
      for (let i = 0; i < pieces.length && !closed; i++) {
        if (i > 0 && pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        if (!socket.destroyed) socket.write(pieces[i]);
      }
    });
  });
}
