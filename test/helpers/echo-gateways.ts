import { configFrom, startGateway, RunningGateway } from './gateway';
import { startUpstream, TestUpstream } from './upstream';

export interface EchoGateways {
  /** The echo upstream every gateway of the file proxies to (started in beforeAll). */
  upstream: () => TestUpstream;
  /** A gateway with one service, `echo`, and the given YAML after it (routes, policies). */
  gateway: (body: string, env?: Record<string, string>) => Promise<RunningGateway>;
  /** Stops this gateway after the test, like the ones `gateway` starts. */
  track: (gw: RunningGateway) => RunningGateway;
}

/**
 * The shared setup of policy tests: one real echo upstream for the file, gateways in front of it
 * that are stopped after each test. Registers its own jest hooks; call it at the top of a file.
 */
export function echoGateways(): EchoGateways {
  let upstream: TestUpstream;
  const running: RunningGateway[] = [];
  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterAll(async () => {
    await upstream.close();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.stop()));
  });
  const track = (gw: RunningGateway) => {
    running.push(gw);
    return gw;
  };
  return {
    upstream: () => upstream,
    track,
    gateway: async (body, env = {}) => track(await startGateway(configFrom(`version: 1\nservices:\n  echo:\n    instances: ["${upstream.url}"]\n    healthCheck: { enabled: false }\n${body}`, env))),
  };
}
