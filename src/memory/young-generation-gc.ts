import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = () => void;

let acquired: Collect | null | undefined;

/**
 * A function that runs one young-generation collection (a scavenge: well under a millisecond for
 * a small heap), or null when this V8 will not give one.
 *
 * V8 hands out its `gc` function only to contexts created while `--expose-gc` is set. The flag is
 * set for the moment one new context is made and cleared again, so no other code sees a global
 * `gc`; that context (~2 MiB) is created on first use only, never by a gateway that does not
 * need it. A process started with `--expose-gc` has its global one used instead.
 */
function youngGenerationGc(): Collect | null {
  if (acquired !== undefined) return acquired;
  try {
    let gc = globalThis.gc;
    if (typeof gc !== 'function') {
      setFlagsFromString('--expose-gc');
      try {
        gc = runInNewContext('gc') as NodeJS.GCFunction;
      } finally {
        setFlagsFromString('--no-expose-gc');
      }
    }
    const collect = gc;
    acquired = typeof collect === 'function' ? () => void collect({ type: 'minor', execution: 'sync' }) : null;
  } catch {
    acquired = null;
  }
  return acquired;
}

/** Runs one young-generation collection when V8 gives a way to; tells whether it ran. */
export function collectYoungGeneration(): boolean {
  const collect = youngGenerationGc();
  if (collect === null) return false;
  collect();
  return true;
}
