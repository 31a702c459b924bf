'use strict';
const os = require('node:os');
// The systems under test, as data. Each one is started as its own process by the starter of its
// `kind` (bench/lib/starters.js) and loaded through `path`. A gateway system is a routes file plus
// what that file needs (upstream instances, Redis, a signed token): adding one is an entry here.
//
//   name       column in the table and key in results/*.json
//   kind       direct | script | gateway | nginx | express-gateway
//   path       request path the load generator asks for (the upstream sees /api/v1/list)
//   skip       reason the slot is kept empty (printed as "skipped: <reason>")
//   peers      only with --peers (installed on demand into bench/.peers/)

module.exports = [
  {
    name: 'direct',
    kind: 'direct',
    path: '/api/v1/list',
    about: 'the upstream itself, no proxy: the ceiling for every other row',
  },
  {
    name: 'bare-undici',
    kind: 'script',
    script: 'bare-undici.js',
    path: '/samples/list',
    about: 'node http server + one undici Pool, ~20 lines (bench/bare-undici.js): the least a node proxy does',
  },
  {
    name: 'express-hpm',
    kind: 'script',
    script: 'express-hpm.js',
    path: '/samples/list',
    about: 'Express 5 + http-proxy-middleware 3 with a keep-alive agent (bench/express-hpm.js)',
  },
  {
    name: 'gateway-plain',
    kind: 'gateway',
    config: 'configs/gateway-plain.yaml',
    path: '/samples/list',
    about: 'the gateway (dist/cli/index.js start), plain prefix route, access log on, written to a file',
  },
  {
    name: 'gateway-full',
    kind: 'gateway',
    config: 'configs/gateway-full.yaml',
    path: '/samples/list',
    upstreams: 2,
    redis: true,
    jwt: true,
    // Its ratio to Express Gateway is taken against Express Gateway's own jwt + rate-limit + proxy pipeline.
    egPeer: 'express-gateway-full',
    about: 'the gateway with JWT auth, Redis rate limiting, transforms and two instances',
  },
  {
    name: 'gateway-cluster',
    kind: 'gateway',
    config: 'configs/gateway-plain.yaml',
    env: { WORKERS: '2' },
    path: '/samples/list',
    // Two workers beside the load generator and the upstream on two cores measure the machine,
    // not the gateway: its CPU per request is measured in pairs instead (COMPARE=cluster bash
    // bench/paired-cpu.sh).
    skip:
      os.availableParallelism() < 4
        ? `throughput of 2 workers is not meaningful on ${os.availableParallelism()} cores shared with the load generator and the upstream; see COMPARE=cluster bash bench/paired-cpu.sh`
        : undefined,
    about: 'the gateway-plain route in cluster mode (WORKERS=2: a primary and two workers on one port)',
  },
  {
    name: 'nginx',
    kind: 'nginx',
    path: '/samples/list',
    about: 'nginx reverse proxy, 1 worker, keepalive upstream pool, access log on, written to a file',
  },
  {
    name: 'express-gateway',
    kind: 'express-gateway',
    version: '1.16.11',
    path: '/samples/list',
    peers: true,
    about: 'Express Gateway 1.16.11 with a proxy pipeline (installed into bench/.peers/ with --peers)',
  },
  {
    name: 'express-gateway-full',
    kind: 'express-gateway',
    version: '1.16.11',
    full: true,
    path: '/samples/list',
    peers: true,
    egPeer: 'express-gateway-full',
    about: 'Express Gateway 1.16.11 with a jwt + rate-limit + proxy pipeline, its counters in the same Redis (with --peers)',
  },
];
