import { connect } from 'node:net';

export interface RawExchange {
  /** Everything the server sent, as latin1 text. */
  text: string;
  /** The status code of the first answer, or 0 when none came. */
  status: number;
  /** Whether the server closed the connection before `waitMs` passed. */
  closedByServer: boolean;
}

/**
 * Writes `bytes` on a fresh TCP connection exactly as given (no client library normalizes them)
 * and reads until the server closes or `waitMs` passes.
 */
export function sendRaw(port: number, bytes: string | Buffer, waitMs = 1000, host = '127.0.0.1'): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const socket = connect(port, host, () => socket.write(bytes));
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => (closedByServer = true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET') reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ text, status, closedByServer });
    });
  });
}

/** The body of the first answer in `text` (after its head), parsed as JSON. */
export function jsonBodyOf(text: string): Record<string, unknown> {
  const start = text.indexOf('\r\n\r\n');
  return JSON.parse(text.slice(start + 4)) as Record<string, unknown>;
}

/** A header of the first answer in `text`, lowercased name, or undefined. */
export function headerOf(text: string, name: string): string | undefined {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}
