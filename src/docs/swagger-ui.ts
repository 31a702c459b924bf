import { dirname } from 'node:path';
import express, { Request, Router } from 'express';
import type { GatewayConfig } from '../config/types';
import type { ManagementListing } from './management-operations';
import { buildOpenApi, OpenApiOptions } from './openapi';
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
//
// A route entry's {path} parameter stands for the rest of the path, "/" included. OpenAPI has no
// multi-segment path parameter and Swagger UI percent-encodes every "/" in a value, so "Try it out"
// would send /samples/a%2Fb (which the service sees as one segment). The interceptor turns %2F back
// into "/" after the prefix of a route entry, when that entry's prefix is the longest route prefix
// the request falls under (the route the gateway will pick): other operations keep their encoding.
const INIT = `function gatewayRoutes() {
  var spec = window.ui && window.ui.specSelectors.specJson();
  var routes = spec && spec.get('x-gateway-routes');
  return routes ? routes.toJS() : [];
}
function slashesAfterEntryPrefix(req) {
  var url = new URL(req.url, window.location.href);
  if (url.origin !== window.location.origin) return req;
  var owner = null;
  gatewayRoutes().forEach(function (r) {
    if (url.pathname.indexOf(r.prefix + '/') === 0 && (!owner || r.prefix.length > owner.prefix.length)) owner = r;
  });
  if (!owner || !owner.entry) return req;
  var rest = url.pathname.slice(owner.prefix.length).replace(/%2F/gi, '/');
  req.url = url.origin + owner.prefix + rest + url.search;
  return req;
}
window.ui = SwaggerUIBundle({
  url: '/docs/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  requestInterceptor: slashesAfterEntryPrefix,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'BaseLayout'
});
`;

export interface DocsContext {
  config: () => GatewayConfig;
  /** The routes file of the running config: `validate:` schema paths are relative to its folder. */
  routesFile: () => string | undefined;
  /** The services' documents as last fetched (never fetched here: /docs answers from the cache). */
  serviceDocuments: () => OpenApiOptions['serviceDocuments'];
  /** The management endpoints that answer this request's client. */
  management: (req: Request) => Omit<ManagementListing, 'metrics'>;
}

/**
 * `/docs` (Swagger UI, served from the swagger-ui-dist package: no CDN) and `/docs/openapi.json`,
 * rebuilt from the running config on every request so that it follows hot reloads.
 */
export function docsRouter(ctx: DocsContext): Router {
  const router = express.Router();
  const assetRoot = dirname(require.resolve('swagger-ui-dist/package.json'));

  router.get('/openapi.json', (req, res) => {
    res.json(
      buildOpenApi(ctx.config(), {
        readSchema: schemaReader(ctx.routesFile()),
        serviceDocuments: ctx.serviceDocuments(),
        management: ctx.management(req),
      }),
    );
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
