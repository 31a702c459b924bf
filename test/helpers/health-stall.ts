import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * How long serving stalled while `work` ran, two ways. `stallMs`: the longest the event loop of
 * this process (the gateway's) was held up, from node's loop-delay histogram: what a blocking
 * reload would show, and what another process competing for the cores barely moves. `worstMs`:
 * the longest a `GET /health` took, sent one after another over a keep-alive connection (client
 * and gateway share this process, so it also carries the machine's scheduling delays). Also
 * counts the answers, so a test can see it measured.
 */
export async function healthStallDuring<T>(url: string, work: () => Promise<T>): Promise<{ result: T; worstMs: number; stallMs: number; answered: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const start = process.hrtime.bigint();
      request(`${url}/health`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? Number(process.hrtime.bigint() - start) / 1e6 : Infinity));
      })
        .on('error', reject)
        .end();
    });
  await once(); // the connection is open before the work starts
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let done = false;
  let worstMs = 0;
  let answered = 0;
  const probing = (async () => {
    while (!done) {
      worstMs = Math.max(worstMs, await once());
      answered++;
    }
  })();
  try {
    const result = await work();
    done = true;
    await probing;
    return { result, worstMs, stallMs: loop.max / 1e6, answered };
  } finally {
    done = true;
    loop.disable();
    agent.destroy();
  }
}
