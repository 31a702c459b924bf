import type { createClient as CreateClient } from 'redis';
import type { Logger } from '../observability/logger';

/** One Redis connection shared by every limiter of a gateway whose store is redis. */
export interface RedisConnection {
  sendCommand(...args: string[]): Promise<unknown>;
  /** Logs a store failure at warn, at most once per 10 s, so an outage does not flood the log. */
  warn(message: string, err: unknown): void;
  close(): void;
}

const WARN_INTERVAL_MS = 10_000;

/** Commands waiting for Redis at most; past it calls fail at once (a Redis that stopped answering). */
export const REDIS_QUEUE_LIMIT = 10_000;

/**
 * A node-redis client set up so that an unreachable Redis fails fast instead of hanging requests:
 * no offline queue (commands are refused at once while disconnected), and it reconnects by itself
 * in the background so limiting resumes when Redis is back. node-redis's own per-command timeout
 * is off: it costs an AbortSignal and a timer per command (~15% of the full pipeline's CPU), and
 * the store already puts a deadline on every call. What a Redis that accepts connections but stops
 * answering leaves behind is bounded by the queue limit instead.
 */
export function connectRedis(url: string, logger: Logger, now: () => number): RedisConnection {
  let lastWarnAt = -Infinity;
  const warn = (message: string, err: unknown) => {
    const at = now();
    if (at - lastWarnAt < WARN_INTERVAL_MS) return;
    lastWarnAt = at;
    logger.warn(message, { error: err instanceof Error ? err.message : String(err) });
  };
  // Loaded only when a config uses Redis: node-redis adds ~15 MiB to the resident size of a
  // gateway that counts in memory.
  const { createClient } = require('redis') as { createClient: typeof CreateClient };
  const client = createClient({
    url,
    disableOfflineQueue: true,
    commandsQueueMaxLength: REDIS_QUEUE_LIMIT,
    commandOptions: { timeout: 0 },
    socket: { connectTimeout: 1000, reconnectStrategy: (retries: number) => Math.min(50 * (retries + 1), 1000) },
  });
  // Without a listener node-redis rethrows connection errors as uncaught exceptions.
  client.on('error', (err: unknown) => warn('rate-limit store (redis) connection error', err));
  let closed = false;
  client.on('ready', () => {
    if (closed) client.destroy();
  });
  client.connect().catch((err: unknown) => warn('rate-limit store (redis) could not connect', err));
  return {
    sendCommand: (...args: string[]) => client.sendCommand(args),
    warn,
    close: () => {
      closed = true;
      // Destroying mid-handshake can leave node-redis's socket behind: a connection that still
      // opens is closed on 'ready' as well.
      if (client.isOpen) client.destroy();
    },
  };
}
