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

/**
 * The access log's own writer. Winston's per-line formatting cost ~40 µs per request here; the
 * access line is built as a plain object, stringified once and written with the other lines of
 * the same event-loop turn in one write. Same JSON-lines format, same destination as the logger.
 */
export class LineWriter {
  private pending: string[] = [];
  private scheduled = false;
  private readonly stream: NodeJS.WritableStream | undefined;
  readonly enabled: boolean;

  constructor(logger: Logger, level: (typeof LOG_LEVELS)[number] = 'info') {
    this.stream = destinations.get(logger);
    this.enabled = this.stream !== undefined && !logger.silent && logger.isLevelEnabled(level);
  }

  write(line: Record<string, unknown>): void {
    if (!this.enabled) return;
    this.pending.push(JSON.stringify(line));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Writes what is pending now (also called on shutdown, so no line is lost). */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.pending.length === 0 || !this.stream) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    this.stream.write(text);
  };
}
