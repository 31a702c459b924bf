/**
 * `npm run demo`: the seven TracSeq stand-ins on 127.0.0.1:8080-8086 and the gateway on :8000 with
 * the shipped routes.yaml pointed at them.
 */
import { serviceEnvName } from '../config/env';
import { startGateway } from '../cli/start';
import { DEMO_JWT_SECRET, DEMO_SERVICES, DEMO_USER } from './demo-user';
import { createStandIn, listen } from './stand-in';

async function main(): Promise<void> {
  for (const { name, port } of DEMO_SERVICES) {
    await listen(createStandIn({ service: name, issuesTokens: name === 'auth' }), port);
    process.env[`SERVICES__${serviceEnvName(name)}__HOST`] ??= '127.0.0.1';
  }
  process.env.AUTHENTICATION__JWT_SECRET_KEY ??= DEMO_JWT_SECRET;
  await startGateway();
  const port = process.env.PORT ?? '8000';
  process.stderr.write(
    [
      '',
      `TracSeq demo: 7 stand-in services on 127.0.0.1:8080-8086, gateway on http://localhost:${port}`,
      'Every route but /auth needs a token; log in as the demo user to get one:',
      `  TOKEN=$(curl -s -X POST localhost:${port}/auth/login -H 'content-type: application/json' -d '{"username":"${DEMO_USER.username}","password":"${DEMO_USER.password}"}' | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
      `  curl -i localhost:${port}/samples/list                                   (401: no token)`,
      `  curl -H "Authorization: Bearer $TOKEN" localhost:${port}/samples/list    (200, the service sees X-User-Id)`,
      `  curl -N -H "Authorization: Bearer $TOKEN" localhost:${port}/notifications/events   (server-sent events)`,
      `  curl -N "localhost:${port}/notifications/events?access_token=$TOKEN"   (the same, as a browser's EventSource asks)`,
      `  curl localhost:${port}/services`,
      `  http://localhost:${port}/docs   (one API page: each stand-in's own OpenAPI document at the gateway's paths)`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
