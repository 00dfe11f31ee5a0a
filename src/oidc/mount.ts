import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type Provider from 'oidc-provider';
import type { JWK } from 'oidc-provider';
import type { AuthDeps } from '../auth/auth-deps.ts';
import { systemClock } from '../clock.ts';
import { hmac } from '../crypto/mac.ts';
import { applySecurityHeaders } from '../web/security-headers.ts';
import { loginPolicy } from './acr.ts';
import { findAccountIn, pairwiseSubject, providerClaims } from './claims.ts';
import { interactionRoutes } from './interactions.ts';
import { createOidcProvider } from './provider.ts';
import { OIDC_AUTHORIZATION, OIDC_PREFIX } from './return-to.ts';
import { closedAuthorization } from './closed.ts';

export interface OidcMountOptions {
  auth: AuthDeps;
  /** The public origin (config.publicUrl): the issuer, discovery at its root. */
  issuer: string;
  /** Private signing keys, ES256 first (the key store's, src/oidc/signing-keys.ts, once it exists). */
  signingKeys: JWK[];
  production: boolean;
  /** Whether a reverse proxy is trusted (X-Forwarded-Proto for the provider's cookies). */
  behindProxy: boolean;
  access: { cacheMs: number; retryAfterSeconds: number };
  /** Called with the provider once it is made (to replace its signing keys later: key-reload.ts). */
  onProvider?: (provider: Provider) => void;
}

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
 * A fresh ES256 key for a process without the key store (development, tests): tokens signed
 * with it stop validating when the process stops. Production passes the key store's keys.
 */
export function ephemeralSigningKeys(): JWK[] {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [{ ...jwk, alg: 'ES256', use: 'sig', kid: `ephemeral-${randomBytes(9).toString('base64url')}` } as JWK];
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
  const cookieKey = hmac(auth.ring.macKey, 'oidc-provider-cookies').toString('base64url');
  const provider = createOidcProvider({
    issuer: o.issuer,
    db: auth.db,
    ring: auth.ring,
    // The provider reads time from Date: its storage must agree (docs/integration.md).
    clock: systemClock,
    signingKeys: o.signingKeys,
    cookieKeys: [cookieKey],
    configuration: {
      routes: OIDC_ROUTES,
      interactions: { url: (_ctx, interaction) => `${OIDC_PREFIX}/interaction/${interaction.uid}`, policy: loginPolicy(requests) },
      findAccount: findAccountIn(auth),
      claims: providerClaims(),
      subjectTypes: ['pairwise'],
      pairwiseIdentifier: (_ctx, accountId, client) => pairwiseSubject(auth.ring, accountId, client.sectorIdentifierUri ? `sector:${new URL(client.sectorIdentifierUri).host}` : `client:${client.clientId}`),
      clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['authorization_code'], response_types: ['code'], subject_type: 'pairwise', require_auth_time: true },
    },
  });
  provider.proxy = o.behindProxy;
  o.onProvider?.(provider);
  const callback = provider.callback() as RequestListener;

  const toProvider = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (await closedAuthorization(provider, request, reply, { db: auth.db, ...o.access })) return;
    requests.set(request.raw, request);
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
  });
  await app.register(interactionRoutes, { provider, auth });
}
