import { dirname } from 'node:path';
import express, { Router } from 'express';
import type { GatewayConfig } from '../config/types';
import { buildOpenApi } from './openapi';
import { schemaReader } from './schema-files';

/**
 * The files of swagger-ui-dist the page needs, and no others: the package also ships an index.html
 * and an initializer pointing at the public petstore, which must never be served from here.
 */
const ASSETS = ['swagger-ui.css', 'index.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'favicon-32x32.png', 'favicon-16x16.png'];

// The page has no inline script, so it works under a Content-Security-Policy of 'self'.
const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>TracSeq API Gateway: API documentation</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="stylesheet" href="/docs/assets/index.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl: null, because Swagger UI otherwise sends the document to validator.swagger.io for
// its badge: the page must not make any request beyond the gateway.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/docs/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'BaseLayout'
});
`;

export interface DocsContext {
  config: () => GatewayConfig;
  /** The routes file of the running config: `validate:` schema paths are relative to its folder. */
  routesFile: () => string | undefined;
}

/**
 * `/docs` (Swagger UI, served from the swagger-ui-dist package: no CDN) and `/docs/openapi.json`,
 * rebuilt from the running config on every request so that it follows hot reloads.
 */
export function docsRouter(ctx: DocsContext): Router {
  const router = express.Router();
  const assetRoot = dirname(require.resolve('swagger-ui-dist/package.json'));

  router.get('/openapi.json', (_req, res) => {
    res.json(buildOpenApi(ctx.config(), { readSchema: schemaReader(ctx.routesFile()) }));
  });
  router.get('/init.js', (_req, res) => {
    res.type('text/javascript').send(INIT);
  });
  router.get('/assets/:file', (req, res, next) => {
    const file = req.params.file;
    if (!ASSETS.includes(file)) return next();
    res.sendFile(file, { root: assetRoot, maxAge: '1h' });
  });
  router.get('/', (_req, res) => {
    res.type('html').send(PAGE);
  });
  return router;
}
