import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { ROOT } from '../helpers/process';

const CHROMIUM = '/usr/bin/chromium';
// The flags of DEPENDENCIES.md: no sandbox (containers), and no traffic of Chromium's own
// (updates, sync, field trials, QUIC probes) that would blur the "no request left" check.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const OUTPUT = join(ROOT, 'test-output');

const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs the Debian package chromium`);
  console.warn(`skipped outside CI: ${CHROMIUM} not installed (apt-get install chromium)`);
}

const ROUTES = [
  { name: 'samples', path: '/samples' },
  { name: 'storage', path: '/storage' },
  { name: 'sequencing', path: '/sequencing' },
  { name: 'auth', path: '/auth' },
];

/** Schemes that never reach the network. */
const LOCAL_SCHEMES = new Set(['data:', 'blob:', 'about:']);

(available ? describe : describe.skip)('GET /docs in Chromium', () => {
  let gw: RunningGateway;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const requested: string[] = [];

  beforeAll(async () => {
    gw = await startGateway(
      configFrom(`
version: 1
auth: { jwt: { secret: "browser-test-secret", algorithms: [HS256] } }
services:
  lab: { instances: ["http://127.0.0.1:9"], healthCheck: { enabled: false } }
routes:
${ROUTES.map((r) => `  - { name: ${r.name}, path: ${r.path}, service: lab${r.name === 'auth' ? ', auth: { required: false }, methods: [POST]' : ', auth: { required: true }'} }`).join('\n')}
`),
    );
    userDataDir = mkdtempSync(join(tmpdir(), 'gw-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
    // Recorded at the context, so that workers' and every frame's requests count too; anything
    // not for the gateway is also aborted, so that a failing run still sends nothing out.
    context.on('request', (r) => requested.push(r.url()));
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      return LOCAL_SCHEMES.has(url.protocol) || url.hostname === '127.0.0.1' ? route.continue() : route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await gw?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('renders the OpenAPI document with Swagger UI, listing every route, with no request leaving 127.0.0.1', async () => {
    const response = await page.goto(`${gw.url}/docs`);
    expect(response?.status()).toBe(200);
    await page.locator('#swagger-ui .info .title').filter({ hasText: 'TracSeq API Gateway' }).waitFor({ timeout: 20_000 });

    for (const route of ROUTES) {
      await page.locator(`.opblock-tag[data-tag="${route.name}"]`).waitFor();
      expect(await page.locator(`.opblock-summary-path[data-path="${route.path}/{path}"]`).count()).toBeGreaterThan(0);
    }
    // The gateway's own endpoints are documented too.
    expect(await page.locator('.opblock-summary-path[data-path="/health/services"]').count()).toBe(1);
    // Secured routes show Swagger UI's lock; the Authorize button exists because bearer is declared.
    expect(await page.locator('.auth-wrapper .authorize').count()).toBe(1);

    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'docs.png'), fullPage: true });

    const leaving = requested.filter((u) => {
      const url = new URL(u);
      return !LOCAL_SCHEMES.has(url.protocol) && url.hostname !== '127.0.0.1';
    });
    expect(requested.length).toBeGreaterThan(3);
    expect(requested).toContain(`${gw.url}/docs/openapi.json`);
    expect(leaving).toEqual([]);
  }, 60_000);
});
