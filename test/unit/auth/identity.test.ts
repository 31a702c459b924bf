import { claimHeaders, identityHeaderNames, replaceIdentityHeaders, userFromClaims } from '../../../src/auth/identity';

const DEFAULT = { 'X-User-Id': 'sub', 'X-User-Roles': 'roles', 'X-User-Email': 'email' };

describe('userFromClaims', () => {
  it.each([
    {
      name: 'the usual claims',
      claims: { sub: 'u1', roles: ['a', 'b'], email: 'a@lab.example.org' },
      sub: 'u1',
      roles: ['a', 'b'],
      headers: { 'x-user-id': 'u1', 'x-user-roles': 'a,b', 'x-user-email': 'a@lab.example.org' },
    },
    {
      name: 'roles as a space- or comma-separated string',
      claims: { sub: 'u1', roles: 'a b,c' },
      sub: 'u1',
      roles: ['a', 'b', 'c'],
      headers: { 'x-user-id': 'u1', 'x-user-roles': 'a,b,c' },
    },
    { name: 'a numeric sub', claims: { sub: 42 }, sub: '42', roles: [], headers: { 'x-user-id': '42' } },
    { name: 'no claims at all', claims: {}, sub: '', roles: [], headers: {} },
    {
      name: 'a value that could split headers or is not ASCII is not forwarded',
      claims: { sub: 'u1\r\nx-evil: 1', email: 'josé@lab.example.org', roles: ['ok', 7, null] },
      sub: 'u1\r\nx-evil: 1',
      roles: ['ok'],
      headers: { 'x-user-roles': 'ok' },
    },
  ])('$name', ({ claims, sub, roles, headers }) => {
    const user = userFromClaims(claims, claimHeaders(DEFAULT), 'roles');
    expect(user.sub).toBe(sub);
    expect(user.roles).toEqual(roles);
    expect(user.forwardHeaders).toEqual(headers);
    expect(user.claims).toBe(claims);
  });

  it('reads nested claims by a dotted name and a custom roles claim', () => {
    const claims = { sub: 'u1', realm_access: { roles: ['lab_admin'] }, tenant: { id: 't-9' } };
    const user = userFromClaims(claims, claimHeaders({ 'X-User-Id': 'sub', 'X-Tenant': 'tenant.id', 'X-User-Roles': 'realm_access.roles' }), 'realm_access.roles');
    expect(user.roles).toEqual(['lab_admin']);
    expect(user.forwardHeaders).toEqual({ 'x-user-id': 'u1', 'x-tenant': 't-9', 'x-user-roles': 'lab_admin' });
  });
});

describe('identity headers of requests forwarded as they are', () => {
  it('drops client copies (any case the client sent) and adds the verified ones', () => {
    const names = identityHeaderNames({ ...DEFAULT, 'x-user-id': 'sub' });
    expect(names).toEqual(['x-user-id', 'x-user-roles', 'x-user-email']);
    const headers: Record<string, unknown> = { 'x-user-id': 'admin', 'x-user-email': 'root@x', host: 'gw' };
    replaceIdentityHeaders(headers, names, undefined);
    expect(headers).toEqual({ host: 'gw' });
    replaceIdentityHeaders(headers, names, userFromClaims({ sub: 'u1' }, claimHeaders(DEFAULT), 'roles'));
    expect(headers).toEqual({ host: 'gw', 'x-user-id': 'u1' });
  });
});
