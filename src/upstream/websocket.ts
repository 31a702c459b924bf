import { Agent, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHandler } from 'http-proxy-middleware';
import type { Logger } from '../observability/logger';
import type { GatewayRequest } from '../pipeline/types';
import type { UpstreamService } from './service';

/**
 * WebSocket upgrades of one service through http-proxy-middleware's `upgrade` handler. One proxy
 * per service, created once per compiled config (creating them per request leaks listeners); the
 * instance and the rewritten path are chosen by the gateway before the proxy sees the request.
 */
export class WebSocketProxy {
  private readonly agent = new Agent({ keepAlive: true });
  private readonly proxy: RequestHandler;
  private readonly hostHeader: string | undefined;

  constructor(service: UpstreamService, logger: Logger) {
    // Loaded only when a config has a WebSocket route: http-proxy and its dependencies add several
    // MiB to the resident size of every other gateway.
    this.hostHeader = service.hostHeader;
    const { createProxyMiddleware } = require('http-proxy-middleware') as typeof import('http-proxy-middleware');
    this.proxy = createProxyMiddleware({
      // Only a placeholder: `router` sends each upgrade to the instance the balancer picked for it
      // (the set of a discovered service changes).
      target: service.instances[0]?.origin ?? 'http://127.0.0.1',
      ws: true,
      // A discovered service's upgrades carry its name as Host (set in upgrade()), not the address.
      changeOrigin: service.hostHeader === undefined,
      agent: this.agent,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      router: (req: IncomingMessage) => (req as GatewayRequest).upstream?.origin,
      on: {
        error: (err, req, target) => {
          logger.warn('websocket proxy error', { requestId: (req as GatewayRequest).id, service: service.name, error: err.message });
          // For upgrades `target` is the client socket: close it rather than leave it hanging.
          if (target && 'destroy' in target) (target as Duplex).destroy();
        },
      },
    });
  }

  upgrade(req: GatewayRequest, socket: Duplex, head: Buffer): void {
    if (this.hostHeader !== undefined) req.headers.host = this.hostHeader;
    this.proxy.upgrade?.(req, socket as never, head);
  }

  close(): void {
    this.agent.destroy();
  }
}
