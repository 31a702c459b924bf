import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { configFrom, RunningGateway, startGateway } from '../helpers/gateway';
import { waitFor } from '../helpers/http';
import { ROOT } from '../helpers/process';
import { startUpstream, TestUpstream } from '../helpers/upstream';

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
  /** A service that publishes its own document; what reached it, by path as it arrived. */
  let inventory: TestUpstream;
  const INVENTORY_DOCUMENT = {
    openapi: '3.1.0',
    info: { title: 'inventory', version: '1' },
    servers: [{ url: '/api/v1' }],
    paths: {
      '/items/{id}': {
        get: {
          operationId: 'getItem',
          summary: 'One inventory item',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'the item' } },
        },
      },
    },
  };

  beforeAll(async () => {
    inventory = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/openapi.json' ? JSON.stringify(INVENTORY_DOCUMENT) : JSON.stringify({ seen: req.url }));
    });
    gw = await startGateway(
      configFrom(`
version: 1
auth: { jwt: { secret: "browser-test-secret", algorithms: [HS256] } }
services:
  lab: { instances: ["http://127.0.0.1:9"], healthCheck: { enabled: false } }
  inventory: { instances: ["${inventory.url}"], healthCheck: { enabled: false }, openapi: { path: /openapi.json } }
  files: { instances: ["${inventory.url}"], healthCheck: { enabled: false } }
routes:
${ROUTES.map((r) => `  - { name: ${r.name}, path: ${r.path}, service: lab${r.name === 'auth' ? ', auth: { required: false }, methods: [POST]' : ', auth: { required: true }'} }`).join('\n')}
  - { name: inventory, path: /inventory, service: inventory, rewrite: /api/v1, auth: { required: false } }
  - { name: files, path: /files, service: files, methods: [GET], auth: { required: false } }
`),
    );
    await waitFor(() => gw.server.current.documents.status('inventory')?.state === 'ok', 5000, 'the inventory document');
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
    await inventory?.close();
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

  /** Opens the operation block of `path`, switches it to "Try it out", fills its one parameter and executes it. */
  async function tryItOut(path: string, value: string): Promise<void> {
    const block = page.locator(`.opblock:has(.opblock-summary-path[data-path="${path}"])`);
    await block.locator('.opblock-summary').click();
    await block.locator('.try-out__btn').click();
    await block.locator('.parameters input[type="text"]').first().fill(value);
    await block.locator('.execute').click();
    await block.locator('.live-responses-table .response-col_status').first().waitFor({ timeout: 10_000 });
  }

  it("shows a service's own operation at the gateway's path, and Try it out reaches the service at its path", async () => {
    await page.goto(`${gw.url}/docs`);
    await page.locator('.opblock-tag[data-tag="inventory"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock-summary-path[data-path="/inventory/items/{id}"]').count()).toBe(1);
    expect(await page.locator('.opblock-summary-path[data-path="/inventory/{path}"]').count()).toBe(0);
    const before = inventory.received.length;
    await tryItOut('/inventory/items/{id}', 'A-17');
    await waitFor(() => inventory.received.length > before, 5000, 'the request at the service');
    expect(inventory.received.at(-1)?.url).toBe('/api/v1/items/A-17');
  }, 60_000);

  it('Try it out on a route entry sends the slashes of {path} as typed, not as %2F', async () => {
    await page.goto(`${gw.url}/docs`);
    await page.locator('.opblock-tag[data-tag="files"]').waitFor({ timeout: 20_000 });
    const before = inventory.received.length;
    await tryItOut('/files/{path}', 'runs/2026/run-7.fastq');
    await waitFor(() => inventory.received.length > before, 5000, 'the request at the service');
    expect(inventory.received.at(-1)?.url).toBe('/files/runs/2026/run-7.fastq');
  }, 60_000);
});
