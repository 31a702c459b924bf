#!/usr/bin/env node
// The container health probe of docker/Dockerfile (HEALTHCHECK) and of the Compose stand-ins:
// exits 0 when http://127.0.0.1:$PORT/health answers 2xx within 2 s, 1 otherwise. PORT is the
// port the process in the container listens on (8000 for the gateway).
const port = process.env.PORT || '8000';
fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
