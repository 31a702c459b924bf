import { CircuitBreaker, CircuitTransition } from '../../../src/upstream/circuit-breaker';

function breaker(overrides: Partial<ConstructorParameters<typeof CircuitBreaker>[0]> = {}) {
  let now = 1_000_000;
  const transitions: CircuitTransition[] = [];
  const b = new CircuitBreaker(
    { enabled: true, failureThreshold: 3, minimumRequests: 5, window: '10s', openFor: '1s', maxOpenFor: '3s', halfOpenRequests: 2, ...overrides },
    () => now,
    (t) => transitions.push(t),
  );
  const request = (outcome: 'ok' | 'fail') => {
    b.onStart();
    if (outcome === 'ok') b.onSuccess();
    else b.onFailure('status 503');
  };
  return { b, transitions, request, advance: (ms: number) => (now += ms) };
}

describe('circuit breaker', () => {
  it('stays closed below minimumRequests even with consecutive failures', () => {
    const { b, request } = breaker();
    for (let i = 0; i < 4; i++) request('fail');
    expect(b.state).toBe('closed');
    request('fail');
    expect(b.state).toBe('open');
  });

  it('needs failureThreshold failures in a row: a success resets the count', () => {
    const { b, request } = breaker();
    ['fail', 'fail', 'ok', 'fail', 'fail', 'ok', 'fail', 'fail'].forEach((o) => request(o as 'ok' | 'fail'));
    expect(b.state).toBe('closed');
    request('fail');
    expect(b.state).toBe('open');
  });

  it('forgets requests older than the window', () => {
    const { b, request, advance } = breaker();
    request('ok');
    request('ok');
    advance(11_000);
    for (let i = 0; i < 3; i++) request('fail');
    expect(b.state).toBe('closed'); // only 3 requests in the window, 5 needed
  });

  it('refuses requests while open, then lets exactly halfOpenRequests trials through', () => {
    const { b, request, advance } = breaker();
    for (let i = 0; i < 5; i++) request('fail');
    expect(b.allowsRequest()).toBe(false);
    advance(999);
    expect(b.allowsRequest()).toBe(false);
    advance(1);
    expect(b.state).toBe('half_open');
    const admitted = [1, 2, 3, 4].filter(() => {
      if (!b.allowsRequest()) return false;
      b.onStart();
      return true;
    });
    expect(admitted).toHaveLength(2);
  });

  it('closes on a successful trial and re-opens for twice as long, capped, on a failed one', () => {
    const { b, request, advance, transitions } = breaker();
    for (let i = 0; i < 5; i++) request('fail');
    advance(1000);
    request('fail'); // failed trial: open for 2 s
    expect(b.state).toBe('open');
    advance(1999);
    expect(b.state).toBe('open');
    advance(1);
    request('fail'); // open for 4 s, capped at 3 s
    advance(2999);
    expect(b.state).toBe('open');
    advance(1);
    request('ok');
    expect(b.state).toBe('closed');
    expect(transitions.map((t) => `${t.from}>${t.to}`)).toEqual(['closed>open', 'open>half_open', 'half_open>open', 'open>half_open', 'half_open>open', 'open>half_open', 'half_open>closed']);
    // After closing, the open time starts again from openFor.
    for (let i = 0; i < 3; i++) request('fail');
    expect(b.state).toBe('open');
    advance(1000);
    expect(b.state).toBe('half_open');
  });

  it('an abandoned trial frees its slot without deciding anything', () => {
    const { b, request, advance } = breaker({ halfOpenRequests: 1 });
    for (let i = 0; i < 5; i++) request('fail');
    advance(1000);
    expect(b.allowsRequest()).toBe(true);
    b.onStart();
    expect(b.allowsRequest()).toBe(false);
    b.onAbandon();
    expect(b.state).toBe('half_open');
    expect(b.allowsRequest()).toBe(true);
  });

  it('does nothing when disabled', () => {
    const { b, request } = breaker({ enabled: false });
    for (let i = 0; i < 20; i++) request('fail');
    expect(b.state).toBe('closed');
    expect(b.allowsRequest()).toBe(true);
  });
});
