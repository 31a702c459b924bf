import { bearerToken, challenge } from '../../../src/auth/bearer';
import { GatewayError } from '../../../src/errors/catalog';

describe('bearerToken', () => {
  it.each([
    ['a plain token', 'Bearer abc.def.ghi', 'abc.def.ghi'],
    ['the scheme in another case', 'bearer abc', 'abc'],
    ['several spaces after the scheme', 'Bearer   abc', 'abc'],
    ['token68 characters and padding', 'Bearer a-b_c~d+e/f==', 'a-b_c~d+e/f=='],
    ['trailing spaces', 'Bearer abc  ', 'abc'],
  ])('reads %s', (_name, header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it('returns undefined when there is no header', () => {
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it.each([
    ['another scheme', 'Basic dXNlcg==', 'uses the "Basic" scheme'],
    ['an empty header', '', 'uses the empty scheme'],
    ['the scheme alone', 'Bearer', 'must be "Bearer <token>"'],
    ['two tokens', 'Bearer a b', 'must be "Bearer <token>"'],
    ['characters outside token68', 'Bearer a"b', 'must be "Bearer <token>"'],
    ['padding in the middle', 'Bearer ab=c', 'must be "Bearer <token>"'],
  ])('refuses %s with 401 invalid_request', (_name, header, detail) => {
    let thrown: unknown;
    try {
      bearerToken(header);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    const err = thrown as GatewayError;
    expect(err.code).toBe('GW_UNAUTHORIZED');
    expect(err.status).toBe(401);
    expect(err.detail).toContain(detail);
    expect(err.headers['www-authenticate']).toMatch(/^Bearer realm="tracseq", error="invalid_request", error_description="[^"]+"$/);
  });
});

describe('challenge (RFC 6750 §3)', () => {
  it.each([
    ['no error', undefined, undefined, 'Bearer realm="tracseq"'],
    ['an error without description', 'invalid_token' as const, undefined, 'Bearer realm="tracseq", error="invalid_token"'],
    ['quotes and backslashes made safe', 'invalid_token' as const, 'issuer "x\\y"', `Bearer realm="tracseq", error="invalid_token", error_description="issuer 'x'y'"`],
    ['non-ASCII and control characters made safe', 'insufficient_scope' as const, 'rôle\r\nx', 'Bearer realm="tracseq", error="insufficient_scope", error_description="r?le??x"'],
  ])('%s', (_name, error, description, expected) => {
    expect(challenge(error, description)).toBe(expected);
  });
});
