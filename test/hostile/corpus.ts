import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const HOSTILE_DIR = join(__dirname, '..', 'fixtures', 'hostile');

/** What one hostile request must lead to; every field given is checked. */
export interface HostileExpectation {
  /** The first final answer's status; `closed` means the gateway closed the connection without one. */
  status?: number | (number | 'closed')[];
  /** Statuses of all final answers on the connection, in order (pipelining). */
  statuses?: number[];
  /** The answer is RFC 9457 problem+json and carries X-Request-Id. */
  problem?: boolean;
  /**
   * Requests the wire upstream must see: `none`, `once`, `once-if-2xx` (one when the answer is 2xx,
   * else none), an exact count, or an inclusive [min, max] range.
   */
  upstream: 'none' | 'once' | 'once-if-2xx' | number | [number, number];
  /** Exact request target upstream. */
  target?: string;
  /** Header names that must appear exactly once upstream. */
  single?: string[];
  /** Header names that must not appear upstream. */
  absent?: string[];
  /** Identity headers (lowercased) that must not appear upstream in any spelling (`_` read as `-`). */
  identityAbsent?: string[];
  /** Identity headers whose only value upstream, in any spelling, must be the given one. */
  identityEquals?: Record<string, string>;
  /** The last X-Forwarded-For hop upstream (the peer the gateway saw). */
  lastForwardedFor?: string;
  bodyLength?: number;
  /** Fetches the token's own key location (jku, x5u) may cause on the attacker's server. */
  keyFetches?: number;
}

export interface HostileCase {
  id: string;
  description: string;
  /** The bytes sent, as a latin1 string with placeholders {{host}} and {{token:<name>}}. */
  raw: string;
  /** Which gateway: the default one (CORS off, as shipped) or `cors` (CORS on for https://lab.example.org). */
  gateway?: 'cors';
  /** Source address of the client (default 127.0.0.1). */
  source?: string;
  /** Final answers to wait for (pipelining). */
  responses?: number;
  /** Further requests, each on its own connection after the previous answer (statuses then cover all). */
  then?: string[];
  expect: HostileExpectation;
}

export interface SlowClientCase {
  id: string;
  description: string;
  kind: 'head-drip' | 'body-drip' | 'silent' | 'never-reads' | 'half-open';
  /** Milliseconds between pieces sent (drips). */
  intervalMs?: number;
  /** Parallel connections of this kind. */
  connections?: number;
  /** Bytes per drip piece. */
  pieceBytes?: number;
  expect: {
    /** Which gateway timeout must cut the connection; it must close within that timeout + 1 s. */
    cutBy?: 'headersTimeout' | 'requestTimeout';
    /** An ordinary client calling meanwhile sees only this status. */
    ordinaryStatus: number;
    /** The attack's requests never complete at the upstream (omitted where they are ordinary requests read slowly). */
    upstream?: 'none';
  };
}

function load<T>(file: string): { family: string; cases: T[] } {
  return JSON.parse(readFileSync(join(HOSTILE_DIR, file), 'utf8')) as { family: string; cases: T[] };
}

export const REQUEST_FAMILIES = ['paths.json', 'framing.json', 'identity.json', 'tokens.json'].map((f) => load<HostileCase>(f));
export const SLOW_CLIENTS = load<SlowClientCase>('slow-clients.json');
