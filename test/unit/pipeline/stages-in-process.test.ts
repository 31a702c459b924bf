import { StageHarness } from '../../helpers/stage-harness';

/** Single stages of one route, run in process through the stage harness (no sockets). */
const services = `
services:
  s: { instances: ["http://127.0.0.1:9"], healthCheck: { enabled: false } }`;

const harnesses: StageHarness[] = [];
function harness(yaml: string, env: Record<string, string> = {}): StageHarness {
  const h = new StageHarness(`version: 1\n${yaml}\n${services}`, undefined, env);
  harnesses.push(h);
  return h;
}
afterAll(() => Promise.all(harnesses.map((h) => h.close())));

describe('ip filter', () => {
  const h = () =>
    harness(`
routes:
  - { name: r, path: /r, service: s, ipFilter: { allow: [10.0.0.0/8], deny: [10.9.0.0/16] } }`);

  it('refuses an address outside the allow list with 403 GW_IP_DENIED, before the upstream', async () => {
    const answer = await h().run({ url: '/r/x', remoteAddress: '192.168.1.5' });
    expect(answer.status).toBe(403);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'GW_IP_DENIED' });
    expect(answer.forwarded).toBeUndefined();
  });

  it('deny wins over allow; an allowed address goes on', async () => {
    const one = h();
    expect((await one.run({ url: '/r/x', remoteAddress: '10.9.1.1' })).status).toBe(403);
    const passed = await one.run({ url: '/r/x', remoteAddress: '10.1.2.3' });
    expect(passed.forwarded?.url).toBe('/r/x');
    expect(passed.stages).toContain('ip-filter');
  });
});

describe('transform', () => {
  it('sets request headers with placeholders and edits the query, keeping other parameters as sent', async () => {
    const h = harness(`
routes:
  - name: t
    path: /t
    service: s
    transform:
      request:
        headers: { set: { x-route: "\${route.name}" }, remove: [x-secret] }
        query: { set: { source: gateway }, remove: [debug] }`);
    const answer = await h.run({ url: '/t/a?debug=1&keep=%20x&source=client', headers: { 'x-secret': 'no', 'x-other': 'yes' } });
    expect(answer.forwarded?.headers['x-route']).toBe('t');
    expect(answer.forwarded?.headers['x-secret']).toBeUndefined();
    expect(answer.forwarded?.headers['x-other']).toBe('yes');
    expect(answer.forwarded?.url).toBe('/t/a?keep=%20x&source=gateway');
  });
});

describe('auth', () => {
  const h = () =>
    harness(
      `
auth: { enabled: true, jwt: { secret: "\${JWT}" } }
routes:
  - { name: a, path: /a, service: s, auth: { required: true } }`,
      { JWT: 'a-secret-of-at-least-thirty-two-characters!' },
    );

  it('answers 401 GW_UNAUTHORIZED with a Bearer challenge when no token is sent', async () => {
    const answer = await h().run({ url: '/a/x' });
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="tracseq"/);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'GW_UNAUTHORIZED' });
    expect(answer.forwarded).toBeUndefined();
  });

  it('refuses a malformed token with 401 GW_INVALID_TOKEN', async () => {
    const answer = await h().run({ url: '/a/x', headers: { authorization: 'Bearer not.a.jwt' } });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'GW_INVALID_TOKEN' });
  });
});

describe('validate', () => {
  it('refuses a content type the route does not accept with 415; an accepted one goes on', async () => {
    const h = harness(`
routes:
  - { name: v, path: /v, service: s, contentTypes: [application/json] }`);
    const accepted = await h.run({ method: 'POST', url: '/v/x', headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': '2' }, body: '{}' });
    expect(accepted.forwarded?.url).toBe('/v/x');
    const wrongType = await h.run({ method: 'POST', url: '/v/x', headers: { 'content-type': 'text/plain', 'content-length': '2' }, body: 'hi' });
    expect(wrongType.status).toBe(415);
    expect(JSON.parse(wrongType.body)).toMatchObject({ code: 'GW_UNSUPPORTED_MEDIA_TYPE' });
    expect(wrongType.forwarded).toBeUndefined();
  });
});

describe('security headers', () => {
  it("name the route's answer headers for the upstream's answer (here the harness's)", async () => {
    const h = harness(`
routes:
  - { name: h, path: /h, service: s }`);
    const answer = await h.run({ url: '/h/x' });
    expect(answer.stages).toEqual(['security-headers']);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['x-frame-options']).toBeDefined();
  });
});
