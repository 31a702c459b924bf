import type { GatewayRequest } from '../../../src/pipeline/types';
import { takeToken, tokenSources } from '../../../src/auth/token-sources';

const sources = tokenSources({ required: true, roles: [], anyRole: [], stripAuthorization: false, tokenFrom: { query: ['access_token', 'token'], cookies: ['gw_token', 'session'] } })!;

/** Just the two fields takeToken reads and rewrites, on a plain object. */
function requestOf(url: string, cookie?: string): GatewayRequest {
  return { url, headers: cookie === undefined ? {} : { cookie } } as unknown as GatewayRequest;
}

describe('takeToken', () => {
  it.each([
    ['the first listed parameter wins over a later one', '/e?token=b&access_token=a', undefined, 'a', '/e', undefined],
    ['every copy of a parameter is removed', '/e?access_token=a&x=1&access_token=b', undefined, 'a', '/e?x=1', undefined],
    ['a percent-encoded value is decoded', '/e?access_token=a%2Eb', undefined, 'a.b', '/e', undefined],
    ['an empty parameter is no token but still removed', '/e?access_token=&y=2', undefined, undefined, '/e?y=2', undefined],
    ['a parameter wins over a cookie', '/e?token=q', 'gw_token=c', 'q', '/e', undefined],
    ['the first listed cookie wins', '/e', 'session=s; gw_token=g', 'g', '/e', undefined],
    ['a quoted cookie value is unquoted', '/e', 'a=1;gw_token="g"', 'g', '/e', 'a=1'],
    ['other cookies keep their values, = signs included', '/e', 'pref=a=b; gw_token=g; theme=dark', 'g', '/e', 'pref=a=b; theme=dark'],
    ['a cookie whose name only ends like one listed stays', '/e', 'xgw_token=g', undefined, '/e', 'xgw_token=g'],
    ['a parameter whose name only starts like one listed stays', '/e?access_token2=a', undefined, undefined, '/e?access_token2=a', undefined],
    ['a malformed value is no token, and removed', '/e?access_token=%E0%A4%A', undefined, undefined, '/e', undefined],
  ])('%s', (_name, url, cookie, token, upstreamUrl, upstreamCookie) => {
    const req = requestOf(url, cookie);
    expect(takeToken(req, sources)).toBe(token);
    expect(req.url).toBe(upstreamUrl);
    expect(req.headers.cookie).toBe(upstreamCookie);
  });

  it('a route with empty lists has no sources', () => {
    expect(tokenSources({ required: true, roles: [], anyRole: [], stripAuthorization: false, tokenFrom: { query: [], cookies: [] } })).toBeUndefined();
  });
});
