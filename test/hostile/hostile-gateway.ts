import { pem, rsa } from '../helpers/tokens';

/**
 * The gateway every hostile case runs against: one echo service behind routes that exercise each
 * guard. Short client timeouts so slow clients are cut within seconds; only 127.0.0.9 is a trusted
 * proxy, so every other loopback client is an untrusted peer whose forwarding headers are ignored.
 * `apiTimeout` shortens the upstream wait of /api (headers and body), so a slow reader outlasts it.
 * `cors` turns CORS on for one browser origin (the schema's default is off).
 */
export function hostileGatewayYaml(upstreamUrl: string, options: { apiTimeout?: string; cors?: boolean } = {}): string {
  return `
version: 1
gateway:
  host: 127.0.0.1
  headersTimeout: 2s
  requestTimeout: 4s
  maxBodySize: 1mb
  trustProxy: ["127.0.0.9/32"]
auth:
  jwt:
    publicKey: ${JSON.stringify(pem(rsa.publicKey))}
    algorithms: [RS256]
monitoring: { logRequests: false }
${options.cors ? 'cors: { enabled: true, origins: ["https://lab.example.org"] }\n' : ''}services:
  echo:
    instances: ["${upstreamUrl}"]
    healthCheck: { enabled: false }
routes:
  - { name: api, path: /api, service: echo${options.apiTimeout ? `, timeout: ${options.apiTimeout}` : ''} }
  - { name: secure, path: /secure, service: echo, auth: { required: true } }
  - { name: admin-only, path: /admin-only, service: echo, auth: { required: true, roles: [lab_admin] } }
  - { name: internal, path: /internal, service: echo, ipFilter: { allow: ["10.0.0.0/8"] } }
  - { name: denied, path: /denied, service: echo, ipFilter: { deny: ["127.0.0.0/8"] } }
  - { name: limited, path: /limited, service: echo, rateLimit: { enabled: true, requestsPerMinute: 2, key: ip } }
`;
}
