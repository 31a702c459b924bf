import { GatewayError } from '../../../src/errors/catalog';
import { isConnectionFailure, upstreamErrorCode, upstreamFailure } from '../../../src/upstream/upstream-error';

const coded = (code: string) => Object.assign(new Error(code), { code });

describe('the one mapping of upstream failures', () => {
  it('reads the code of the error or of its cause', () => {
    expect(upstreamErrorCode(coded('ECONNREFUSED'))).toBe('ECONNREFUSED');
    expect(upstreamErrorCode(Object.assign(new Error('fetch failed'), { cause: coded('UND_ERR_SOCKET') }))).toBe('UND_ERR_SOCKET');
    expect(upstreamErrorCode(new Error('plain'))).toBe('');
    expect(upstreamErrorCode(undefined)).toBe('');
  });

  it.each([
    ['UND_ERR_HEADERS_TIMEOUT', 'GW_UPSTREAM_TIMEOUT', 504],
    ['UND_ERR_CONNECT_TIMEOUT', 'GW_UPSTREAM_TIMEOUT', 504],
    ['ECONNREFUSED', 'GW_UPSTREAM_UNAVAILABLE', 502],
    ['ENOTFOUND', 'GW_UPSTREAM_UNAVAILABLE', 502],
    ['ECONNRESET', 'GW_UPSTREAM_RESET', 502],
    ['UND_ERR_SOCKET', 'GW_UPSTREAM_RESET', 502],
    ['UND_ERR_ABORTED', 'GW_UPSTREAM_ERROR', 502],
  ])('%s becomes %s (%d)', (code, expected, status) => {
    const err = upstreamFailure(coded(code), 'samples', 250);
    expect(err.code).toBe(expected);
    expect(err.status).toBe(status);
    expect(err.detail).toContain('"samples"');
  });

  it('passes a GatewayError through', () => {
    const own = new GatewayError('GW_INTERNAL', 'ours');
    expect(upstreamFailure(own, 'samples', 1)).toBe(own);
  });

  it('counts refused, unresolved and reset connections as connection failures, not timeouts', () => {
    expect(['ECONNREFUSED', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'EPIPE'].every(isConnectionFailure)).toBe(true);
    expect(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', '', 'UND_ERR_ABORTED'].some(isConnectionFailure)).toBe(false);
  });
});
