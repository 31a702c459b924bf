import { createAuthenticator } from '../auth/authenticator';
import { bearerToken, credentialsRequired, insufficientRole } from '../auth/bearer';
import { takeToken, tokenSources } from '../auth/token-sources';
import { GatewayError } from '../errors/catalog';
import type { GatewayRequest, Next, RequestUser, StageFactory } from './types';
import { onRequestAndUpgrade } from './descriptor';

/** The check of a route's roles, or undefined when it has none. */
function roleCheck(roles: readonly string[], anyRole: readonly string[]): ((user: RequestUser) => GatewayError | undefined) | undefined {
  if (roles.length === 0 && anyRole.length === 0) return undefined;
  return (user) => {
    const missing = roles.filter((r) => !user.roles.includes(r));
    if (missing.length > 0) return insufficientRole(`This route requires the role${missing.length === 1 ? '' : 's'} ${missing.join(', ')}, which the token does not carry`);
    if (anyRole.length > 0 && !anyRole.some((r) => user.roles.includes(r))) {
      return insufficientRole(`This route requires one of the roles ${anyRole.join(', ')}; the token carries none of them`);
    }
    return undefined;
  };
}

/**
 * Authentication of one route, on the request alone (so it guards WebSocket upgrades as well):
 * - No request is exempt. CORS preflights never get here when CORS is on: the cors stage, which
 *   runs before this one, answers them itself. With CORS off an OPTIONS request is the client's
 *   own and reaches the service, so it needs a token like any other (an exemption keyed on
 *   Access-Control-Request-Method let any client past auth by sending that header).
 * - `required`: no token → 401; a token that fails verification → 401 naming the check; the Auth
 *   Service unable to answer → 503; a missing role → 403.
 * - not required: a valid token still sets the user (its identity headers go upstream); no token,
 *   or one that does not verify, passes as anonymous.
 * The user's identity headers are added by the proxy from `req.user` only; client copies of them
 * are dropped on every route (see proxy-headers), whether or not this stage runs.
 * A token may also come from a query parameter or cookie (auth.tokenFrom), for EventSource and
 * WebSocket clients; the header wins when both are sent.
 */
export const createAuthStage: StageFactory = (route, config, deps) => {
  const sources = tokenSources(route.config.auth);
  if (!config.auth.enabled) {
    deps.shared('auth:disabled-warning', () => {
      deps.logger.warn('authentication is disabled (auth.enabled: false or AUTHENTICATION__ENABLED=false): no route checks tokens', {
        routesRequiringAuth: config.routes.filter((r) => r.auth.required).map((r) => r.name),
      });
      return true;
    });
    // With auth off nothing reads these credentials, and still none is passed on.
    if (sources === undefined) return null;
    return onRequestAndUpgrade(function stripCredentials(req: GatewayRequest, next: Next): void {
      takeToken(req, sources);
      next();
    });
  }
  const authenticator = deps.shared('auth:authenticator', () => createAuthenticator(config, deps));
  const { required, roles, anyRole } = route.config.auth;
  if (authenticator === undefined) {
    // The config checks refuse this; never let a route that asked for auth run without it.
    if (required) throw new Error(`route "${route.name}" requires auth but no way to verify tokens is configured`);
    return null;
  }
  const checkRoles = required ? roleCheck(roles, anyRole) : undefined;

  function admit(req: GatewayRequest, user: RequestUser, next: Next): void {
    const refused = checkRoles?.(user);
    if (refused !== undefined) return next(refused);
    req.user = user;
    next();
  }

  return onRequestAndUpgrade(function authenticate(req: GatewayRequest, next: Next): void {
    // Taken out first, whatever comes next: the parameter or cookie never goes upstream or into a log.
    const alternative = sources === undefined ? undefined : takeToken(req, sources);
    let token: string | undefined;
    try {
      // The Authorization header wins: a browser's cookie must not replace the token a caller chose.
      token = bearerToken(req.headers.authorization) ?? alternative;
    } catch (malformed) {
      return required ? next(malformed) : next();
    }
    if (token === undefined) return required ? next(credentialsRequired()) : next();
    const known = authenticator.cached(token);
    if (known !== undefined) return admit(req, known, next);
    authenticator
      .authenticate(token, { requestId: req.id, traceparent: req.trace.traceparent })
      .then(
        (user) => admit(req, user, next),
        (err: unknown) => {
          if (required) next(err);
          else next();
        },
      )
      // A fault in what runs next (the rest of the chain) ends this request, never the process.
      .catch(next);
  });
};
