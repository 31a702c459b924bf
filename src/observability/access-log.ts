import type { Socket } from 'node:net';
import type { CompiledRoute, GatewayRequest } from '../pipeline/types';
import { bytesOf, putAscii, putBytes, putCount, putHundredths, putString } from './json-bytes';
import type { LineWriter } from './logger';

/** Room for the fixed parts of a line; the variable strings are counted apart. */
const FIXED_BYTES = 512;
/** The most bytes one character of client text can take in the line (`\u0001`). */
const MAX_BYTES_PER_CHAR = 6;

const NULL = bytesOf('null');
const REQUEST_ID = bytesOf('Z","level":"info","message":"request","requestId":"');
const TRACE_ID = bytesOf('","traceId":"');
const UPSTREAM = bytesOf(',"upstream":');
const RETRIES = bytesOf(',"retries":');
const DURATION = bytesOf(',"durationMs":');
const BYTES_IN = bytesOf(',"bytesIn":');
const BYTES_OUT = bytesOf(',"bytesOut":');
const CLIENT_IP = bytesOf(',"clientIp":');
const USER = bytesOf(',"user":');
/** Written only on an answer the gateway cut: `,"outcome":"upstream_idle_timeout"` and the like. */
const OUTCOMES = new Map(['upstream_idle_timeout', 'upstream_failed', 'client_too_slow'].map((o) => [o, bytesOf(`,"outcome":"${o}"`)]));
const END = bytesOf('}\n');

/**
 * `{"timestamp":"` and the date up to the second, shared by the lines of that second (formatting
 * a date costs ~1 µs); the milliseconds are written as three digits.
 */
let secondStart = 0;
let secondPrefix = bytesOf('');

function putTimestamp(buf: Buffer, at: number): number {
  const now = Date.now();
  let ms = now - secondStart;
  if (ms < 0 || ms >= 1000) {
    secondStart = now - (now % 1000);
    secondPrefix = bytesOf(`{"timestamp":"${new Date(secondStart).toISOString().slice(0, 20)}`); // up to "ss."
    ms = now - secondStart;
  }
  at = putBytes(buf, at, secondPrefix);
  buf[at] = 0x30 + Math.floor(ms / 100);
  buf[at + 1] = 0x30 + (Math.floor(ms / 10) % 10);
  buf[at + 2] = 0x30 + (ms % 10);
  return at + 3;
}

/** `","method":"GET","path":` per method (node's parser knows a fixed set of methods). */
const methodFields = new Map<string, Buffer>();

function methodBytes(method: string): Buffer {
  let bytes = methodFields.get(method);
  if (bytes === undefined) {
    bytes = bytesOf(`","method":${JSON.stringify(method)},"path":`);
    methodFields.set(method, bytes);
  }
  return bytes;
}

/** What is the same for every line of a route, encoded once per compiled route. */
interface RouteFields {
  /** `,"route":…,"service":…` */
  names: Buffer;
  /** `,"rateLimitKey":…,"status":` (the key type the route counts by, when it has a limit) */
  beforeStatus: Buffer;
}

const NO_ROUTE: RouteFields = { names: bytesOf(',"route":null,"service":null'), beforeStatus: bytesOf(',"rateLimitKey":null,"status":') };
const routeFields = new WeakMap<CompiledRoute, RouteFields>();

function fieldsOf(route: CompiledRoute | undefined): RouteFields {
  if (route === undefined) return NO_ROUTE;
  let fields = routeFields.get(route);
  if (fields === undefined) {
    const limit = route.config.rateLimit;
    fields = {
      names: bytesOf(`,"route":${JSON.stringify(route.name)},"service":${JSON.stringify(route.service.name)}`),
      beforeStatus: bytesOf(`,"rateLimitKey":${limit.enabled ? JSON.stringify(limit.key) : 'null'},"status":`),
    };
    routeFields.set(route, fields);
  }
  return fields;
}

/** Upstream URLs come from the config: each is encoded once. */
const upstreamUrls = new Map<string, Buffer>();

function upstreamBytes(url: string | undefined): Buffer {
  if (url === undefined) return NULL;
  let bytes = upstreamUrls.get(url);
  if (bytes === undefined) {
    bytes = bytesOf(JSON.stringify(url));
    if (upstreamUrls.size >= 1000) upstreamUrls.clear();
    upstreamUrls.set(url, bytes);
  }
  return bytes;
}

/** A client connection's byte counts when its previous access line was written. */
interface CountedSocket extends Socket {
  loggedBytesRead?: number;
  loggedBytesWritten?: number;
}

/**
 * Writes the access line of one finished request, one JSON object, into the writer's chunk.
 * It is encoded field by field straight into bytes, with the fields that are the same for a
 * route, a method or a second encoded once: building the line as a string and encoding it later
 * (let alone an object passed to JSON.stringify) was a visible share of the gateway's CPU time
 * at thousands of requests per second.
 *
 * Byte counts are what crossed the client connection since the previous line of the same
 * connection, headers included: on a keep-alive connection, this request and its answer. (Read
 * when the request starts they would miss its own head, which node has read by then.)
 */
export function writeAccessLine(out: LineWriter, req: GatewayRequest, status: number): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  // Never the query string: it may carry secrets.
  const path = q === -1 ? url : url.slice(0, q);
  const route = req.gatewayRoute;
  const fields = fieldsOf(route);
  const upstream = upstreamBytes(req.upstream?.url);
  const user = req.user?.sub;
  const clientText = req.id.length + path.length + req.clientIp.length + (user === undefined ? 0 : user.length);
  const buf = out.reserve(FIXED_BYTES + fields.names.length + fields.beforeStatus.length + upstream.length + MAX_BYTES_PER_CHAR * clientText);

  const socket = req.clientSocket as CountedSocket;
  const read = socket.bytesRead;
  const written = socket.bytesWritten;
  const bytesIn = read - (socket.loggedBytesRead ?? 0);
  const bytesOut = written - (socket.loggedBytesWritten ?? 0);
  socket.loggedBytesRead = read;
  socket.loggedBytesWritten = written;

  let at = putTimestamp(buf, out.offset);
  at = putBytes(buf, at, REQUEST_ID);
  // The request id is either the gateway's own or a client's that passed a strict pattern;
  // the method is an HTTP token (node's parser checks it): nothing in them needs escaping.
  at = putAscii(buf, at, req.id);
  at = putBytes(buf, at, TRACE_ID);
  at = putAscii(buf, at, req.trace.traceId);
  at = putBytes(buf, at, methodBytes(req.method ?? 'GET'));
  at = putString(buf, at, path);
  at = putBytes(buf, at, fields.names);
  at = putBytes(buf, at, UPSTREAM);
  at = putBytes(buf, at, upstream);
  at = putBytes(buf, at, RETRIES);
  at = putCount(buf, at, req.retries);
  at = putBytes(buf, at, fields.beforeStatus);
  at = putCount(buf, at, status);
  at = putBytes(buf, at, DURATION);
  at = putHundredths(buf, at, performance.now() - req.startedAt);
  at = putBytes(buf, at, BYTES_IN);
  at = putCount(buf, at, bytesIn);
  at = putBytes(buf, at, BYTES_OUT);
  at = putCount(buf, at, bytesOut);
  at = putBytes(buf, at, CLIENT_IP);
  at = putString(buf, at, req.clientIp);
  // Who, for the audit trail: the verified token's subject, never anything the client claimed.
  at = putBytes(buf, at, USER);
  at = user === undefined || user === null ? putBytes(buf, at, NULL) : putString(buf, at, user);
  const endedBy = req.exchange?.endedBy;
  const outcome = endedBy === undefined ? undefined : OUTCOMES.get(endedBy);
  if (outcome !== undefined) at = putBytes(buf, at, outcome);
  out.commit(putBytes(buf, at, END));
}
