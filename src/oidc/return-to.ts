import type { FastifyReply, FastifyRequest } from 'fastify';
import { hostCookie } from '../web/cookies.ts';

/** Where the provider's endpoints live (the issuer is the public origin; discovery at its root). */
export const OIDC_PREFIX = '/oidc';
export const OIDC_AUTHORIZATION = `${OIDC_PREFIX}/auth`;

/**
 * The authorization endpoint and its resumption (`/oidc/auth/:uid`): while citizen access is
 * closed the access gate lets them through, and closed.ts answers them the OAuth way.
 */
export const isOidcAuthorization = (path: string): boolean => path === OIDC_AUTHORIZATION || path.startsWith(`${OIDC_AUTHORIZATION}/`);

/**
 * The provider's paths that stay open while citizen access is closed: public metadata (services
 * keep starting and validating what was issued before) and what only takes access away (a
 * service revoking tokens, a citizen signing out). The token and userinfo endpoints close:
 * they hand out citizen data. Kept in step with mount.ts's OIDC_ROUTES (tested).
 */
export const OIDC_OPEN_WHILE_CLOSED: readonly string[] = [
  '/.well-known/openid-configuration',
  `${OIDC_PREFIX}/jwks`,
  `${OIDC_PREFIX}/token/revocation`,
  `${OIDC_PREFIX}/session/end`,
  `${OIDC_PREFIX}/session/end/confirm`,
  `${OIDC_PREFIX}/session/end/success`,
];

/**
 * The provider's endpoints that services' servers call, never a browser page: served without
 * the citizen pages' hooks (machine-endpoints.ts), and answering a closed citizen scope
 * themselves (503 `temporarily_unavailable`, or served if OIDC_OPEN_WHILE_CLOSED lists them).
 * Kept in step with mount.ts's OIDC_ROUTES (tested).
 */
export const OIDC_MACHINE_ENDPOINTS: readonly string[] = [
  `${OIDC_PREFIX}/token`,
  `${OIDC_PREFIX}/me`,
  `${OIDC_PREFIX}/token/revocation`,
  `${OIDC_PREFIX}/token/introspection`,
  `${OIDC_PREFIX}/jwks`,
];

export const isOidcMachineEndpoint = (path: string): boolean => OIDC_MACHINE_ENDPOINTS.includes(path);

/**
 * The way back from our login pages to the provider's interaction. The cookie holds only the
 * interaction's id (an opaque random value, checked for its shape); the path is built here,
 * never taken from a request, so this is no open redirect. The interaction itself still needs
 * the provider's own signed, path-scoped `_interaction` cookie, and checks the session.
 */
export const OIDC_RETURN_COOKIE = '__Host-sesame-oidc-return';
const UID = /^[A-Za-z0-9_-]{16,64}$/;
/** As long as an interaction lives (provider ttl.Interaction). */
const RETURN_TTL_SECONDS = 600;

export const isInteractionUid = (uid: string): boolean => UID.test(uid);
export const interactionPath = (uid: string): string => `${OIDC_PREFIX}/interaction/${uid}`;

/**
 * The same way back, as a path our flows can store: their `return_to` column admits lower-case
 * paths only, so the interaction id travels hex-encoded, through a route that redirects.
 */
export const interactionReturnPath = (uid: string): string => `${OIDC_PREFIX}/return/${Buffer.from(uid, 'utf8').toString('hex')}`;
export function uidFromReturnPath(hex: string): string | null {
  if (!/^(?:[0-9a-f]{2}){16,64}$/.test(hex)) return null;
  const uid = Buffer.from(hex, 'hex').toString('utf8');
  return isInteractionUid(uid) ? uid : null;
}

/**
 * The login page an interaction sends the citizen to. The marker says that this visit of the
 * login page is the interaction's: a visit without it (the home page's link, a bookmark, another
 * tab) starts a login of its own, which must not end at a service the citizen left behind.
 */
export const OIDC_LOGIN_PATH = '/login?service=1';

export function rememberOidcReturn(reply: FastifyReply, uid: string): void {
  reply.setCookie(OIDC_RETURN_COOKIE, uid, hostCookie(RETURN_TTL_SECONDS));
}

export function forgetOidcReturn(reply: FastifyReply): void {
  reply.clearCookie(OIDC_RETURN_COOKIE, hostCookie());
}

/** The interaction ended (or went on with a session): its way back is forgotten, if this browser still had it. */
export function forgetOidcReturnOf(request: FastifyRequest, reply: FastifyReply): void {
  if (request.cookies[OIDC_RETURN_COOKIE] !== undefined) forgetOidcReturn(reply);
}

/**
 * For GET /login: a login started elsewhere than from an interaction (no marker, see
 * OIDC_LOGIN_PATH) forgets the way back to any earlier, abandoned interaction.
 */
export function forgetOidcReturnUnlessFromService(request: FastifyRequest, reply: FastifyReply): void {
  const query = request.query as Record<string, unknown> | undefined;
  if (query?.['service'] !== '1') forgetOidcReturnOf(request, reply);
}

/** The page where a citizen gives up a service's sign-in (the service then gets access_denied). */
export const interactionCancelPath = (uid: string): string => `${interactionPath(uid)}/cancel`;

/** For a step-up whose `return_to` is an interaction (interactionReturnPath): its cancel page, else null. */
export function cancelPathOfReturn(returnTo: string | null | undefined): string | null {
  const prefix = `${OIDC_PREFIX}/return/`;
  if (!returnTo?.startsWith(prefix)) return null;
  const uid = uidFromReturnPath(returnTo.slice(prefix.length));
  return uid ? interactionCancelPath(uid) : null;
}

/**
 * For the login page of a service's sign-in: that sign-in's cancel page, else null. A GET
 * without the marker is not one (its cookie is being forgotten); a POST still carries the
 * cookie only when the page was opened from a sign-in.
 */
export function pendingServiceCancelPath(request: FastifyRequest): string | null {
  const query = request.query as Record<string, unknown> | undefined;
  if (request.method === 'GET' && query?.['service'] !== '1') return null;
  const uid = request.cookies[OIDC_RETURN_COOKIE];
  return uid !== undefined && isInteractionUid(uid) ? interactionCancelPath(uid) : null;
}

/** After a login: the interaction that sent the citizen to /login, if any (the cookie is then cleared). */
export function takeOidcReturn(request: FastifyRequest, reply: FastifyReply): string | null {
  const uid = request.cookies[OIDC_RETURN_COOKIE];
  if (uid === undefined) return null;
  forgetOidcReturn(reply);
  return isInteractionUid(uid) ? interactionPath(uid) : null;
}
