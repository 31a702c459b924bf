import type { GatewayConfig } from '../config/types';
import type { GatewayDeps } from '../pipeline/types';
import type { UpstreamService } from '../upstream/service';
import type { ServiceDocument } from './service-document';
import { DocumentStatus, ServiceDocumentSource } from './service-document-source';

/** The origin of the instance a service's balancer would pick now (health and circuit decide). */
function usableOrigin(service: UpstreamService): string | undefined {
  return service.balancer.pick()?.origin;
}

/**
 * The document sources of one compiled gateway's services, one per service with `openapi:`. A
 * reload takes a source over, with its cached document, while that service's `openapi` settings
 * stay the same; an instance list that changes does not cost the document.
 */
export class ServiceDocuments {
  constructor(
    private readonly sources: ReadonlyMap<string, ServiceDocumentSource>,
    private readonly services: ReadonlyMap<string, UpstreamService>,
  ) {}

  /**
   * Points every source at this gateway's services and starts the ones not yet fetching. Only for
   * the gateway that serves: one that only lints, explains or failed to compile never fetches.
   */
  start(): void {
    for (const [name, source] of this.sources) {
      const service = this.services.get(name);
      if (service) source.follow(() => usableOrigin(service));
      source.start();
    }
  }

  /** Each service's last good document (if any) and how fetching goes, for /docs. */
  snapshot(): Map<string, { document: ServiceDocument | undefined; status: DocumentStatus }> {
    return new Map([...this.sources].map(([name, s]) => [name, { document: s.document, status: s.status() }]));
  }

  status(service: string): DocumentStatus | undefined {
    return this.sources.get(service)?.status();
  }

  /** A fetch of every document now (tests; an operator's reload does not need it). */
  refreshAll(): Promise<void> {
    return Promise.all([...this.sources.values()].map((s) => s.refresh())).then(() => undefined);
  }
}

/** The document sources of `config`'s services, taken over from the previous gateway where unchanged. */
export function serviceDocuments(config: GatewayConfig, services: ReadonlyMap<string, UpstreamService>, deps: GatewayDeps): ServiceDocuments {
  const sources = new Map<string, ServiceDocumentSource>();
  for (const [name, svc] of Object.entries(config.services)) {
    if (!svc.openapi) continue;
    const settings = svc.openapi;
    const source = deps.resources.reuse(
      `openapi:${name}`,
      JSON.stringify(settings),
      () =>
        new ServiceDocumentSource(name, settings, {
          logger: deps.logger,
          now: deps.now,
          fetched: (service, result) => deps.metrics.openApiFetches.inc({ service, result }),
        }),
      (s) => s.close(),
    );
    sources.set(name, source);
  }
  return new ServiceDocuments(sources, services);
}
