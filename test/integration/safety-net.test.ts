import type { OutgoingHttpHeaders } from 'node:http';
import request from 'supertest';
import { composeChain } from '../../src/pipeline/chain';
import type { CompiledRoute, Handler, ResponseHeaderEdit } from '../../src/pipeline/types';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { waitFor } from '../helpers/http';
import { startUpstream, TestUpstream } from '../helpers/upstream';

/**
 * An exception of the gateway's own, thrown in a stage or in the proxy's upstream callbacks, ends
 * that one request with a logged 500 and leaves the process serving. The throwing code is put into
 * a compiled route the way the compiler puts stages and response edits there.
 */
let upstream: TestUpstream;
let gw: RunningGateway;
let route: CompiledRoute;
let compiledHandle: CompiledRoute['handle'];

beforeAll(async () => {
  upstream = await startUpstream();
  gw = await startGateway(
    configFrom(`
version: 1
services:
  s: { instances: ["${upstream.url}"], healthCheck: { enabled: false }, circuitBreaker: { failureThreshold: 1, minimumRequests: 1 } }
routes:
  - { name: broken, path: /broken, service: s }
  - { name: fine, path: /fine, service: s }
`),
  );
  route = gw.server.current.routes.find((r) => r.name === 'broken')!;
  compiledHandle = route.handle;
});

afterAll(async () => {
  await gw.stop();
  await upstream.close();
});

afterEach(() => {
  route.handle = compiledHandle;
  route.responseHeaderEdits.length = 0;
});

async function expectInternalError(path: string, requestId: string): Promise<void> {
  const res = await request(gw.url).get(path).set('x-request-id', requestId);
  expect(res.status).toBe(500);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ code: 'GW_INTERNAL', requestId });
  await waitFor(() => gw.logs().some((l) => l.level === 'error' && l.requestId === requestId), 2000, 'error log line');
  expect(String(gw.logs().find((l) => l.level === 'error' && l.requestId === requestId)!.error)).toContain('deliberate');
  // The process serves on, on this route and the others.
  expect((await request(gw.url).get('/fine/x')).status).toBe(200);
}

const deliberate = (): never => {
  throw new Error('deliberate failure in a stage');
};

const stages: [string, Handler[]][] = [
  ['a stage that throws', [deliberate]],
  ['an async stage whose promise rejects', [async () => deliberate()]],
  ['a stage that throws when run from a timer by the stage before it', [(_req, _res, next) => void setImmediate(next), deliberate]],
  ['a stage that throws when run from a promise callback by the stage before it', [(_req, _res, next) => void Promise.resolve().then(() => next()), deliberate]],
];

describe('an exception in a stage', () => {
  it.each(stages)('%s: 500 GW_INTERNAL with the request id, logged, and the gateway serves on', async (what, handlers) => {
    route.handle = composeChain(handlers);
    await expectInternalError('/broken/x', `stage-${stages.findIndex(([w]) => w === what)}`);
  });
});

describe("an exception in the proxy's upstream callbacks", () => {
  const edits: [string, ResponseHeaderEdit][] = [
    ['a response header edit that throws', () => deliberate()],
    [
      'a response header edit whose value node refuses to send',
      (headers: OutgoingHttpHeaders) => {
        headers['x-deliberate'] = 'deliberate\u0001value';
      },
    ],
  ];

  it.each(edits)('%s: 500 GW_INTERNAL, not counted against the instance', async (what, edit) => {
    route.responseHeaderEdits.push(edit);
    const requestId = `edit-${edits.findIndex(([w]) => w === what)}`;
    const res = await request(gw.url).get('/broken/x').set('x-request-id', requestId);
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 'GW_INTERNAL', requestId });
    expect(res.headers['x-deliberate']).toBeUndefined();
    await waitFor(() => gw.logs().some((l) => l.level === 'error' && l.requestId === requestId), 2000, 'error log line');
    // One failure would open this circuit: the instance was fine, so it stays closed.
    const instance = gw.server.current.services.get('s')!.instances[0];
    expect(instance.breaker.state).toBe('closed');
    expect(instance.breaker.consecutiveFailures).toBe(0);
    expect(instance.inFlight).toBe(0);
    expect((await request(gw.url).get('/fine/x')).status).toBe(200);
  });
});
