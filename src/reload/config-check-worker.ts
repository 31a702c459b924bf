import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { checkConfigText } from '../config';
import type { Env } from '../config/env';
import type { ConfigProblem } from '../config/errors';
import { readConfigFile, UnreadableFileError } from '../config/load';
import type { GatewayConfig } from '../config/types';
import { contentHash } from './content-hash';

/**
 * The worker thread that reads and checks a routes file for a reload: parsing, interpolation,
 * schema and checks of a large or hostile file then take this thread's time, never the one that
 * serves requests (which only compiles a config that passed).
 */
export interface CheckRequest {
  id: number;
  file: string;
  env: Env;
  /** At most this many problems travel back; a reload log line with 100,000 of them helps nobody. */
  maxProblems: number;
}

export type CheckReply =
  /** `routesToFollow`: the config's routes come after it, in RouteBatch messages. */
  { id: number; hash: string; config?: GatewayConfig; problems: ConfigProblem[]; omitted: number; routesToFollow?: number } | { id: number; unreadable: string };

/** Part of a large config's routes, sent after its reply, one part per request for more. */
export interface RouteBatch {
  id: number;
  routes: GatewayConfig['routes'];
}

/** The serving thread asks for the next part of the routes once it has taken the last one. */
export interface MoreRoutes {
  id: number;
  more: true;
}

/**
 * Routes per message: the serving thread decodes each message whole, and a config of 10,000
 * routes in one message held it for about a second. One part at a time, asked for when the last
 * one is taken (node decodes every message waiting on a port in one go), it serves in between.
 */
export const ROUTES_PER_MESSAGE = 100;

/** The routes still to send of the last config, until the serving thread has them all. */
let remaining: { id: number; routes: GatewayConfig['routes'] } | undefined;

/** What a warm-up (a request naming no file) checks: enough to load and compile every part. */
const WARM_UP_TEXT = 'version: 1\nservices: { s: { instances: ["http://127.0.0.1:1"] } }\nroutes: [{ name: r, path: /r, service: s }]\n';

function check(request: CheckRequest): CheckReply {
  if (request.file === '') {
    checkConfigText('warm-up', WARM_UP_TEXT, {});
    return { id: request.id, unreadable: '' };
  }
  let text: string;
  try {
    text = readConfigFile(request.file);
  } catch (err) {
    if (err instanceof UnreadableFileError) return { id: request.id, unreadable: err.message };
    throw err;
  }
  const result = checkConfigText(request.file, text, request.env);
  const errors = result.problems.filter((p) => p.severity === 'error');
  return {
    id: request.id,
    hash: contentHash(text, request.env),
    config: result.config,
    problems: errors.slice(0, request.maxProblems),
    omitted: Math.max(0, errors.length - request.maxProblems),
  };
}

/**
 * On a busy machine a check competing for the CPU still delays the serving thread; on Linux a
 * thread has its own nice value (/proc/thread-self names its id), so the checks yield the CPU to
 * it. Elsewhere this is skipped: the worker only runs at the same priority.
 */
function lowerThisThreadsPriority(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, 10);
  } catch {
    /* not Linux, or not allowed */
  }
}

lowerThisThreadsPriority();

/** The reply; a large config's routes stay here and go in parts, as they are asked for. */
function send(reply: CheckReply): void {
  const config = 'config' in reply ? reply.config : undefined;
  if (config === undefined || config.routes.length <= ROUTES_PER_MESSAGE) {
    parentPort?.postMessage(reply);
    return;
  }
  remaining = { id: reply.id, routes: config.routes };
  parentPort?.postMessage({ ...reply, config: { ...config, routes: [] }, routesToFollow: config.routes.length });
}

function sendMore(request: MoreRoutes): void {
  if (remaining?.id !== request.id) return;
  const routes = remaining.routes.splice(0, ROUTES_PER_MESSAGE);
  if (remaining.routes.length === 0) remaining = undefined;
  parentPort?.postMessage({ id: request.id, routes } satisfies RouteBatch);
}

parentPort?.on('message', (request: CheckRequest | MoreRoutes) => {
  if ('more' in request) return sendMore(request);
  remaining = undefined;
  let reply: CheckReply;
  try {
    reply = check(request);
  } catch (err) {
    reply = { id: request.id, unreadable: `${request.file}: the file could not be checked: ${err instanceof Error ? err.message : String(err)}` };
  }
  send(reply);
});
