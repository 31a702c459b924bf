import { Agent, request } from 'node:http';

/**
 * The longest a `GET /health` took while `work` ran: requests are sent one after another over a
 * keep-alive connection, so a blocked event loop in the gateway (in this process) shows as the
 * latency of the request waiting on it. Also counts the answers, so a test can see it measured.
 */
export async function healthStallDuring<T>(url: string, work: () => Promise<T>): Promise<{ result: T; worstMs: number; answered: number }> {
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
    return { result, worstMs, answered };
  } finally {
    done = true;
    agent.destroy();
  }
}
