/**
 * One TracSeq stand-in per process, for containers (docker/docker-compose.demo.yml):
 *   node dist/demo/serve-one.js <service>
 * <service> is a service name of routes.yaml (auth, samples, storage, templates, sequencing,
 * notifications, rag). PORT overrides its demo port, HOST the address (all interfaces by default,
 * since a container's loopback is its own), JWT_SECRET_KEY the secret the auth stand-in signs with.
 */
import type { Server } from 'node:http';
import type { Env } from '../config/env';
import { DEMO_JWT_SECRET, DEMO_SERVICES } from './demo-user';
import { createStandIn, listen } from './stand-in';

export interface StandInPlan {
  service: string;
  port: number;
  host: string;
  jwtSecret: string;
}

export function planStandIn(args: readonly string[], env: Env): StandInPlan {
  const names = DEMO_SERVICES.map((s) => s.name);
  const known = DEMO_SERVICES.find((s) => s.name === args[0]);
  if (!known) throw new Error(`usage: serve-one.js <service>, one of ${names.join(', ')}; got ${JSON.stringify(args[0] ?? '')}`);
  const port = env.PORT ? Number(env.PORT) : known.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT=${JSON.stringify(env.PORT)} must be a whole number from 0 to 65535`);
  return { service: known.name, port, host: env.HOST || '0.0.0.0', jwtSecret: env.JWT_SECRET_KEY || DEMO_JWT_SECRET };
}

export async function serveOne(plan: StandInPlan): Promise<{ server: Server; port: number }> {
  const server = createStandIn({ service: plan.service, issuesTokens: plan.service === 'auth', jwtSecret: plan.jwtSecret });
  const port = await listen(server, plan.port, plan.host);
  return { server, port };
}

if (require.main === module) {
  Promise.resolve()
    .then(() => serveOne(planStandIn(process.argv.slice(2), process.env)))
    .then(({ server, port }) => {
      process.stderr.write(`stand-in ${process.argv[2]} listening on ${port}\n`);
      process.once('SIGTERM', () => server.close(() => process.exit(0)));
    })
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    });
}
