import winston from 'winston';

export type Logger = winston.Logger;
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/** Where each logger writes, so the access-log fast path writes to the same place. */
const destinations = new WeakMap<Logger, NodeJS.WritableStream>();

/** One JSON object per line on stdout (or on the given stream), with an ISO timestamp. */
export function createLogger(level = 'info', stream: NodeJS.WritableStream = process.stdout): Logger {
  const logger = winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream })],
  });
  destinations.set(logger, stream);
  return logger;
}

/** A logger that writes nowhere, for tools and tests that do not want log output. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

/** Lines are held at most this long before they are written... */
const FLUSH_AFTER_MS = 25;
/** ...or until a chunk of this many bytes is full. */
const CHUNK_BYTES = 64 * 1024;

/** Writers with lines waiting, written out synchronously if the process exits first. */
const unflushed = new Set<LineWriter>();
let exitHookInstalled = false;

/**
 * The access log's own writer. Winston's per-line formatting cost ~40 µs per request here; access
 * lines are encoded straight into a 64 KiB chunk (see access-log.ts) and written together, one
 * write per 25 ms or per full chunk (a write per event-loop turn was still a visible share of the
 * CPU time at full load). Same JSON-lines format, same destination as the logger. Nothing waiting
 * is lost when the process ends: the gateway flushes on shutdown, and an exit hook writes what is
 * left (stdout writes are synchronous on Linux for files, pipes and terminals).
 */
export class LineWriter {
  private chunk: Buffer | null = null;
  /** Where the next line starts in `chunk`. */
  private used = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly stream: NodeJS.WritableStream | undefined;
  readonly enabled: boolean;

  constructor(logger: Logger, level: (typeof LOG_LEVELS)[number] = 'info') {
    this.stream = destinations.get(logger);
    this.enabled = this.stream !== undefined && !logger.silent && logger.isLevelEnabled(level);
    if (this.enabled && !exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const writer of unflushed) writer.flush();
      });
    }
  }

  /**
   * A chunk with room for a line of at most `bytes` bytes (newline included), which the caller
   * encodes from `offset` on and then hands back with `commit`.
   */
  reserve(bytes: number): Buffer {
    if (this.chunk === null || this.chunk.length - this.used < bytes) {
      this.flush();
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
      this.used = 0;
    }
    return this.chunk;
  }

  /** Where a line encoded into the reserved chunk starts. */
  get offset(): number {
    return this.used;
  }

  /** The line encoded into the reserved chunk ends at `end` (after its newline). */
  commit(end: number): void {
    this.used = end;
    if (this.timer === undefined) {
      this.timer = setTimeout(this.flush, FLUSH_AFTER_MS);
      this.timer.unref();
      unflushed.add(this);
    }
  }

  /** Queues one line of JSON text (without its newline). */
  write(line: string): void {
    if (!this.enabled) return;
    const chunk = this.reserve(Buffer.byteLength(line) + 1);
    const end = this.used + chunk.write(line, this.used);
    chunk[end] = NEWLINE;
    this.commit(end + 1);
  }

  /** Writes what is pending now (also called on shutdown, so no line is lost). */
  readonly flush = (): void => {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    unflushed.delete(this);
    const chunk = this.chunk;
    if (chunk === null || this.used === 0 || !this.stream) return;
    // The stream may hold on to what it is given until written: the next lines go to a new chunk.
    this.stream.write(chunk.subarray(0, this.used));
    this.chunk = null;
    this.used = 0;
  };
}

const NEWLINE = 0x0a;
