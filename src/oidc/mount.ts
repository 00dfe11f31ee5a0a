import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type Provider from 'oidc-provider';
import type { JWK } from 'oidc-provider';
import type { AuthDeps } from '../auth/auth-deps.ts';
import { hmac } from '../crypto/mac.ts';
import { applySecurityHeaders } from '../web/security-headers.ts';
import { loginPolicy, type SuspiciousRule } from './acr.ts';
import { findAccountIn, pairwiseSubject, providerClaims } from './claims.ts';
import { interactionRoutes } from './interactions.ts';
import { subjectSector } from './clients.ts';
import type { OidcLifetimes } from './lifetimes.ts';
import { createOidcProvider } from './provider.ts';
import { OIDC_AUTHORIZATION, OIDC_MACHINE_ENDPOINTS, OIDC_PREFIX } from './return-to.ts';
import { machineEndpoint } from './machine-endpoints.ts';
import type { RawRoutes } from '../web/raw-routes.ts';
import { closedAuthorization } from './closed.ts';
import { backToServiceRoutes, installFormPost } from './back-to-service.ts';
import { installLogout, rpInitiatedLogout } from './logout.ts';
import { installOidcAudit } from './audit.ts';
import { consentedGrantLoader } from './connected-services.ts';
import type { OidcStore } from './adapter.ts';

export interface OidcMountOptions {
  auth: AuthDeps;
  /** The provider's store, shared with the account area's withdrawals (connected-services.ts revokeGrant). */
  store: OidcStore;
  /** The public origin (config.publicUrl): the issuer, discovery at its root. */
  issuer: string;
  /** Private signing keys, ES256 first (the key store's, src/oidc/signing-keys.ts, once it exists). */
  signingKeys: JWK[];
  production: boolean;
  /** Whether a reverse proxy is trusted (X-Forwarded-Proto for the provider's cookies). */
  behindProxy: boolean;
  access: { cacheMs: number; retryAfterSeconds: number };
  /** The reverse proxy's suspicion mark (config.oidcSuspicious): eidas2 at least and no SSO; null or absent: off. */
  suspicious?: SuspiciousRule | null;
  /** Lifetimes of codes and tokens (config.oidcLifetimes); the defaults when absent. */
  lifetimes?: OidcLifetimes;
  /** Called with the provider once it is made (to replace its signing keys later: key-reload.ts). */
  onProvider?: (provider: Provider) => void;
  /** The app's lane past Fastify's hooks, for the machine endpoints (machine-endpoints.ts); absent, Fastify serves them. */
  rawRoutes?: RawRoutes;
}

/** The provider's cookie names in production (see the cookies setting below). */
export const PROVIDER_COOKIE_NAMES = { session: '__Host-sesame-op-session', interaction: '__Secure-sesame-op-interaction', resume: '__Secure-sesame-op-resume' } as const;

/** The provider's endpoints, under OIDC_PREFIX; discovery stays at /.well-known/openid-configuration. */
export const OIDC_ROUTES = {
  authorization: OIDC_AUTHORIZATION,
  token: `${OIDC_PREFIX}/token`,
  userinfo: `${OIDC_PREFIX}/me`,
  jwks: `${OIDC_PREFIX}/jwks`,
  revocation: `${OIDC_PREFIX}/token/revocation`,
  introspection: `${OIDC_PREFIX}/token/introspection`,
  end_session: `${OIDC_PREFIX}/session/end`,
  pushed_authorization_request: `${OIDC_PREFIX}/request`,
  backchannel_authentication: `${OIDC_PREFIX}/backchannel`,
  code_verification: `${OIDC_PREFIX}/device`,
  device_authorization: `${OIDC_PREFIX}/device/auth`,
  registration: `${OIDC_PREFIX}/reg`,
  challenge: `${OIDC_PREFIX}/challenge`,
} as const;

/**
 * Fresh keys for an app built without the key store (tests): tokens signed with them stop
 * validating when the process stops. The server passes the key store's keys. A new ES256 key
 * each time; one RS256 key per process (RSA generation is slow, and an RS256 client needs one).
 */
let ephemeralRsa: JWK | undefined;
export function ephemeralSigningKeys(): JWK[] {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  ephemeralRsa ??= { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: `ephemeral-rs-${randomBytes(9).toString('base64url')}` } as JWK;
  return [{ ...jwk, alg: 'ES256', use: 'sig', kid: `ephemeral-${randomBytes(9).toString('base64url')}` } as JWK, { ...ephemeralRsa }];
}

/**
 * panva's oidc-provider inside the Fastify app. The provider is a Koa app: its routes are
 * Fastify routes that hand the raw request and response to `provider.callback()` after
 * `reply.hijack()` (Fastify no longer touches the response, so our security headers are set on
 * the raw response first; the provider may then tighten Cache-Control). Its bodies are left
 * unparsed for it (it reads the stream itself), and our CSRF check is off for those routes
 * only: the token, revocation and introspection endpoints are called by services' servers,
 * the authorization endpoint may be a cross-site form post by design, and the provider
 * protects them itself (client authentication, PKCE, state/nonce, its logout form's own
 * xsrf token). Our own pages of the flow (interaction, consent) keep the CSRF check.
 */
export async function oidcProvider(app: FastifyInstance, o: OidcMountOptions): Promise<void> {
  const { auth } = o;
  const requests = new WeakMap<IncomingMessage, FastifyRequest>();
  const requestIds = new WeakMap<IncomingMessage, string>();
  const cookieKey = hmac(auth.ring.macKey, 'oidc-provider-cookies').toString('base64url');
  const provider = createOidcProvider({
    issuer: o.issuer,
    store: o.store,
    signingKeys: o.signingKeys,
    ...(o.lifetimes ? { lifetimes: o.lifetimes } : {}),
    cookieKeys: [cookieKey],
    configuration: {
      routes: OIDC_ROUTES,
      // In production behind the TLS proxy the provider's cookies are prefixed like ours: the
      // session cookie is __Host- (path /), so a sibling subdomain cannot plant it; the two
      // path-scoped interaction cookies can only be __Secure- (a sibling could set one, signed
      // from its own sign-in: the interaction then is its own, which the service's state check
      // refuses). Without a trusted proxy saying https (plain-
      // http development), the library's names: a prefixed cookie needs the Secure flag, which
      // Koa refuses to set on a request it does not know came over TLS.
      cookies: {
        keys: [cookieKey],
        ...(o.production && o.behindProxy ? { names: PROVIDER_COOKIE_NAMES, long: { secure: true }, short: { secure: true } } : {}),
      },
      interactions: { url: (_ctx, interaction) => `${OIDC_PREFIX}/interaction/${interaction.uid}`, policy: loginPolicy(requests, auth.clock, o.suspicious ?? null) },
      findAccount: findAccountIn(auth),
      claims: providerClaims(),
      subjectTypes: ['pairwise'],
      // Per sector (sesame clients create --sector) or per client: clients.ts subjectSector.
      pairwiseIdentifier: (_ctx, accountId, client) => pairwiseSubject(auth.ring, accountId, subjectSector(client)),
      clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['authorization_code'], response_types: ['code'], subject_type: 'pairwise', require_auth_time: true },
      // Our DSFR pages for RP-initiated logout (logout.ts); merged over provider.ts's features.
      features: { rpInitiatedLogout: rpInitiatedLogout(requests) },
      // Consent remembered per account and service, withdrawable (connected-services.ts).
      loadExistingGrant: consentedGrantLoader(o.store),
    },
  });
  provider.proxy = o.behindProxy;
  // Chromium's form-action on the way back to the service: form_post and logout (back-to-service.ts, logout.ts).
  installFormPost(provider, requests);
  installLogout(provider, { requests, auth });
  // Audit events of the flow (audit.ts), written in the background; flushed when the app closes.
  const oidcAudit = installOidcAudit(provider, { db: auth.db, clock: auth.clock, requests, requestIds, onError: (err, types) => app.log.error({ err, types }, 'oidc audit events not written') });
  app.addHook('onClose', () => oidcAudit.settled());
  // The library answers server_error and emits this, nothing more: the cause goes to our log, under the request's id.
  provider.on('server_error', (ctx, err) => app.log.error({ err, reqId: requestIds.get(ctx.req) }, 'oidc provider error'));
  o.onProvider?.(provider);
  const callback = provider.callback() as RequestListener;
  const machine = machineEndpoint({
    callback,
    db: auth.db,
    access: o.access,
    production: o.production,
    requestIds,
    onError: (err, requestId) => app.log.error({ err, reqId: requestId }, 'oidc machine endpoint failed'),
  });
  for (const path of OIDC_MACHINE_ENDPOINTS) o.rawRoutes?.add(path, machine);

  const toProvider = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (await closedAuthorization(provider, request, reply, { db: auth.db, ...o.access })) return;
    requests.set(request.raw, request);
    requestIds.set(request.raw, request.id);
    applySecurityHeaders(reply, { production: o.production });
    reply.hijack();
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
    await callback(request.raw, reply.raw);
  };

  await app.register(async (scope) => {
    // The provider parses its own bodies (and refuses what it does not expect).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const methods: HTTPMethods[] = ['GET', 'POST', 'OPTIONS'];
    scope.route({ method: methods, url: '/.well-known/openid-configuration', config: { csrf: false }, handler: toProvider });
    scope.route({ method: methods, url: `${OIDC_PREFIX}/*`, config: { csrf: false }, handler: toProvider });
    // Under inject() (and should the raw lane be absent): the same handler, hooks and all.
    for (const url of OIDC_MACHINE_ENDPOINTS) {
      scope.route({ method: methods, url, config: { csrf: false }, handler: async (request, reply) => {
        reply.hijack();
        await machine(request.raw, reply.raw, request.id);
      } });
    }
  });
  await app.register(interactionRoutes, { provider, store: o.store, auth });
  await app.register(backToServiceRoutes);
}
