import request from 'supertest';
import { STAGES } from '../../src/pipeline';
import type { CompiledRoute, GatewayRequest } from '../../src/pipeline/types';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { rawRequest, waitFor } from '../helpers/http';
import { startUpstream, TestUpstream } from '../helpers/upstream';

/**
 * The phases of the stage descriptors, as the compiler derives them: response-head phases become
 * the route's dropped headers and edits, response-end phases run once an answer was relayed whole.
 */
let upstream: TestUpstream;
let gw: RunningGateway;

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    res.setHeader('server', 'upstream/1.0');
    if (req.method === 'POST') {
      let size = 0;
      req.on('data', (c: Buffer) => (size += c.length));
      req.on('end', () => res.end(JSON.stringify({ size })));
      return;
    }
    res.end('plain');
  });
  gw = await startGateway(
    configFrom(`
version: 1
services:
  s: { instances: ["${upstream.url}"], healthCheck: { enabled: false } }
routes:
  - { name: plain, path: /plain, service: s }
  - name: edited
    path: /edited
    service: s
    transform: { response: { headers: { set: { x-edited: "\${route.name}" } } } }
`),
  );
});

afterAll(async () => {
  await gw.stop();
  await upstream.close();
});

const routeNamed = (name: string): CompiledRoute => gw.server.current.routes.find((r) => r.name === name)!;

describe('stage descriptors', () => {
  it('come from one list, in the order of the contract', () => {
    const names = STAGES.map((s) => s.name);
    expect(names).toEqual(['ip-filter', 'cors', 'security-headers', 'auth', 'ratelimit', 'validate', 'transform', 'balance', 'proxy']);
    expect(new Set(names).size).toBe(names.length);
  });

  it('a response-head phase without a request phase still edits the answer, and stays out of the chain names', async () => {
    const res = await request(gw.url).get('/edited/x');
    expect(res.status).toBe(200);
    expect(res.headers['x-edited']).toBe('edited');
    expect(gw.server.current.stagesByRoute.get('edited')).not.toContain('transform');
    expect(routeNamed('plain').responseHeaderEdits).toHaveLength(0);
  });

  it("the security headers stage's response-head phase drops the upstream's Server header", async () => {
    expect(routeNamed('plain').droppedResponseHeaders.has('server')).toBe(true);
    const res = await request(gw.url).get('/plain/x');
    expect(res.headers.server).toBeUndefined();
  });

  it('a plain route has no response-end phase', () => {
    expect(routeNamed('plain').responseEnds).toHaveLength(0);
  });
});

describe('the response-end phase', () => {
  const route = () => routeNamed('plain');
  afterEach(() => {
    route().responseEnds.length = 0;
  });

  it('runs once per answer relayed whole, after the end, for a GET and a streamed POST', async () => {
    const seen: { id: string; ended: boolean }[] = [];
    route().responseEnds.push((req: GatewayRequest, res) => seen.push({ id: req.id, ended: res.writableEnded }));
    const get = await request(gw.url).get('/plain/a').set('x-request-id', 'end-get');
    expect(get.text).toBe('plain');
    const body = Buffer.alloc(200_000, 7);
    const post = await rawRequest(`${gw.url}/plain/b`, { method: 'POST', headers: { 'x-request-id': 'end-post', 'transfer-encoding': 'chunked' }, body });
    expect(JSON.parse(post.body)).toEqual({ size: body.length });
    await waitFor(() => seen.length === 2, 2000, 'two response ends');
    expect(seen).toEqual([
      { id: 'end-get', ended: true },
      { id: 'end-post', ended: true },
    ]);
  });

  it('a phase that throws is logged; the answer and the next phases are not affected', async () => {
    const after: string[] = [];
    route().responseEnds.push(() => {
      throw new Error('deliberate end failure');
    });
    route().responseEnds.push((req) => after.push(req.id));
    const res = await request(gw.url).get('/plain/c').set('x-request-id', 'end-throws');
    expect(res.status).toBe(200);
    expect(res.text).toBe('plain');
    await waitFor(() => after.includes('end-throws'), 2000, 'the next phase');
    expect(gw.logs().some((l) => l.requestId === 'end-throws' && String(l.error).includes('deliberate end failure'))).toBe(true);
  });
});
