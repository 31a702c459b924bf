import { createHmac, generateKeyPairSync, sign as signBytes } from 'node:crypto';
import { labClaims, mint, nowSeconds, pem, rsa, stranger, unsigned } from '../helpers/tokens';

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** header.payload signed with RS256 by `key`, from raw segment text (so the segments can be anything). */
function rs256Raw(headerSegment: string, payloadSegment: string, key = stranger.privateKey): string {
  const input = `${headerSegment}.${payloadSegment}`;
  return `${input}.${signBytes('sha256', Buffer.from(input), key).toString('base64url')}`;
}

function hmacRaw(alg: 'sha256' | 'sha384' | 'sha512', name: string, keyText: string | Buffer, claims: Record<string, unknown>, extraHeader: Record<string, unknown> = {}): string {
  const input = `${b64({ alg: name, typ: 'JWT', ...extraHeader })}.${b64(claims)}`;
  return `${input}.${createHmac(alg, keyText).update(input).digest('base64url')}`;
}

/** Deeply nested JSON text that stays under the header size limit once base64url-encoded. */
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/**
 * Every token the tokens family names, built for this run from the suite's keys. `keyServer` is an
 * attacker-controlled loopback URL that a gateway must never fetch keys from.
 */
export function hostileTokens(keyServer: string): Record<string, string> {
  const claims = labClaims();
  const valid = mint(claims, rsa.privateKey, 'RS256');
  const [validHeader, validPayload, validSignature] = valid.split('.');
  const publicPem = pem(rsa.publicKey);
  const foreignEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const unsignedWith = (alg: unknown) => `${b64({ alg, typ: 'JWT' })}.${b64(claims)}.`;
  const strangerWith = (header: Record<string, unknown>, body: Record<string, unknown> = claims) => rs256Raw(b64({ alg: 'RS256', typ: 'JWT', ...header }), b64(body));
  const other = mint(labClaims({ sub: 'user-7' }), rsa.privateKey, 'RS256');
  return {
    valid,
    'valid-proto-roles': rs256Raw(validHeader, b64(`{"sub":"user-42","roles":["researcher"],"__proto__":{"roles":["lab_admin"]},"exp":${nowSeconds() + 600}}`), rsa.privateKey),
    'alg-none': unsigned(claims),
    'alg-None': unsignedWith('None'),
    'alg-NONE': unsignedWith('NONE'),
    'alg-nOnE': unsignedWith('nOnE'),
    'alg-none-with-signature': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.${validSignature}`,
    'alg-missing': `${b64({ typ: 'JWT' })}.${b64(claims)}.${validSignature}`,
    'alg-empty': unsignedWith(''),
    'alg-null': unsignedWith(null),
    'hs256-public-pem': hmacRaw('sha256', 'HS256', publicPem, claims),
    'hs256-public-pem-trimmed': hmacRaw('sha256', 'HS256', publicPem.trim(), claims),
    'hs256-public-der-base64': hmacRaw('sha256', 'HS256', rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), claims),
    'hs384-public-pem': hmacRaw('sha384', 'HS384', publicPem, claims),
    'hs512-public-pem': hmacRaw('sha512', 'HS512', publicPem, claims),
    'hs256-empty-key': hmacRaw('sha256', 'HS256', '', claims),
    'stranger-rs256': mint(claims, stranger.privateKey, 'RS256'),
    'stranger-ps256': mint(claims, stranger.privateKey, 'PS256'),
    'es256-foreign-key': mint(claims, foreignEc.privateKey, 'ES256'),
    'rs256-tampered-payload': `${validHeader}.${b64({ ...claims, roles: ['lab_admin'] })}.${validSignature}`,
    'rs256-truncated-signature': `${validHeader}.${validPayload}.${validSignature.slice(0, -8)}`,
    'rs256-expired': mint(labClaims({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }), rsa.privateKey, 'RS256'),
    'rs256-not-yet-valid': mint(labClaims({ nbf: nowSeconds() + 3600 }), rsa.privateKey, 'RS256'),
    'rs256-signature-of-another-token': `${validHeader}.${validPayload}.${other.split('.')[2]}`,
    'kid-traversal-etc-passwd': strangerWith({ kid: '../../../../../../etc/passwd' }),
    'kid-dev-null-hs256-empty': hmacRaw('sha256', 'HS256', '', claims, { kid: '../../../../../../dev/null' }),
    'kid-sql-injection': strangerWith({ kid: "x' UNION SELECT 'secret' --" }),
    'kid-command-injection': strangerWith({ kid: '$(touch /tmp/pwned); `id`' }),
    'kid-url': strangerWith({ kid: `${keyServer}/kid` }),
    'kid-64kb-ish': strangerWith({ kid: 'k'.repeat(11_000) }),
    'jku-loopback': strangerWith({ jku: `${keyServer}/jwks.json` }),
    'x5u-loopback': strangerWith({ x5u: `${keyServer}/cert.pem` }),
    'embedded-jwk': strangerWith({ jwk: stranger.publicKey.export({ format: 'jwk' }) }),
    'x5c-self-signed': strangerWith({ x5c: [stranger.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')] }),
    'huge-64kb': mint(labClaims({ padding: 'p'.repeat(48 * 1024) }), rsa.privateKey, 'RS256'),
    'large-12kb-stranger': mint(labClaims({ padding: 'p'.repeat(9 * 1024) }), stranger.privateKey, 'RS256'),
    'non-base64url-plus-slash': `${validHeader}.${validPayload}.${validSignature.replace(/-/g, '+').replace(/_/g, '/')}+/`,
    'padding-equals': `${validHeader}==.${validPayload}=.${validSignature}=`,
    'percent-encoded': `${validHeader}.${validPayload}.%41%42${validSignature}`,
    'two-parts': `${validHeader}.${validPayload}`,
    'four-parts': `${valid}.${validSignature}`,
    'empty-parts': '..',
    'header-not-json': `${b64('not json')}.${validPayload}.${validSignature}`,
    'header-json-array': `${b64('["RS256"]')}.${validPayload}.${validSignature}`,
    'payload-not-json': rs256Raw(validHeader, b64('{"sub":'), rsa.privateKey),
    'payload-json-string': rs256Raw(validHeader, b64('"user-42"'), rsa.privateKey),
    'unicode-in-token': `${validHeader}.${validPayload}.\u00e9${validSignature}`,
    'whitespace-inside': `${validHeader}. ${validPayload}.${validSignature}`,
    'json-bomb-nested-header': rs256Raw(b64(`{"alg":"RS256","x":${nested(4000)}}`), validPayload),
    'json-bomb-nested-payload': rs256Raw(validHeader, b64(`{"sub":"user-42","x":${nested(4000)}}`)),
    'json-many-keys': strangerWith({}, Object.fromEntries(Array.from({ length: 800 }, (_, i) => [`k${i}`, i]))),
    'proto-pollution-roles': strangerWith({}, JSON.parse('{"sub":"user-42","__proto__":{"roles":["lab_admin"]}}') as Record<string, unknown>),
  };
}
