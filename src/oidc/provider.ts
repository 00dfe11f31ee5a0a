import Provider, { errors, type Configuration, type JWK } from 'oidc-provider';
import type { OidcStore } from './adapter.ts';
import { providerAdapter } from './client-adapter.ts';
import { installReplayClaim } from './replay-detection.ts';
import { ACR_VALUES, SCOPES } from './client-policy.ts';
import { installSecretCheck } from './client-secret.ts';
import { installContractAnswers } from './answers.ts';
import { EXTRA_CLIENT_METADATA } from './clients.ts';
import { DEFAULT_OIDC_LIFETIMES, type OidcLifetimes } from './lifetimes.ts';

/**
 * The provider on our storage, with the settings that storage depends on. Mounting it is one
 * call (`provider.callback()` under the issuer's path); interactions, claims (findAccount),
 * pairwise subjects and the signing-key store are the next step (docs/integration.md).
 */
export interface OidcProviderOptions {
  issuer: string;
  /** Where the provider keeps its models (adapter.ts): `createOidcStore(deps)`, shared with whatever revokes grants outside the provider (connected-services.ts). */
  store: OidcStore;
  /**
   * Private signing keys, the signer of each algorithm first (oidc-provider signs with the first
   * key of an algorithm): `(await loadSigningKeys(db, ring, clock)).keys` from the key store
   * (src/oidc/signing-keys.ts), which also publishes upcoming and retired keys behind it.
   */
  signingKeys: JWK[];
  /** Keys that sign the provider's cookies, newest first. */
  cookieKeys: string[];
  /** Lifetimes of codes and tokens; the defaults when absent. */
  lifetimes?: OidcLifetimes;
  /** Anything else (findAccount, interactions, claims…), laid over these settings. */
  configuration?: Configuration;
}

/** Secrets are stored as MACs (client-secret.ts): nothing may use a client secret as a key. */
const NO_SYMMETRIC = ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'] as const;
const ASYMMETRIC_ENC = ['ECDH-ES', 'RSA-OAEP', 'RSA-OAEP-256'] as const;

const escapeHtml = (v: string): string => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Until the DSFR error page exists: no third-party resource (the library's default page loads
 * Google Fonts), never cached, and only the error code, never its description (which can
 * quote what the request carried).
 */
const renderError: NonNullable<Configuration['renderError']> = (ctx, out) => {
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  const code = escapeHtml(String(out.error ?? 'server_error'));
  ctx.body = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Connexion impossible</title></head><body><h1>La demande de connexion n’a pas abouti</h1><p lang="en">The sign-in request failed.</p><p>Code : <code>${code}</code></p></body></html>`;
};

export function baseConfiguration(store: OidcStore, signingKeys: JWK[], cookieKeys: string[], lifetimes: OidcLifetimes = DEFAULT_OIDC_LIFETIMES): Configuration {
  return {
    adapter: providerAdapter(store),
    jwks: { keys: signingKeys },
    cookies: { keys: cookieKeys },
    // `none`: public clients, for which the library requires PKCE (pkce.required's default).
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    enabledJWA: {
      clientAuthSigningAlgValues: NO_SYMMETRIC,
      requestObjectSigningAlgValues: NO_SYMMETRIC,
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'RS256'],
      // ID tokens are signed only: no client can register their encryption (answers.ts).
      idTokenEncryptionAlgValues: [],
      userinfoEncryptionAlgValues: ASYMMETRIC_ENC,
      requestObjectEncryptionAlgValues: ASYMMETRIC_ENC,
      introspectionEncryptionAlgValues: ASYMMETRIC_ENC,
      authorizationEncryptionAlgValues: ASYMMETRIC_ENC,
    },
    clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['authorization_code'], response_types: ['code'] },
    extraClientMetadata: { properties: [...EXTRA_CLIENT_METADATA] },
    acrValues: [...ACR_VALUES],
    scopes: [...SCOPES],
    responseTypes: ['code'],
    allowOmittingSingleRegisteredRedirectUri: false,
    features: {
      clientCredentials: { enabled: true },
      // A client revokes its own tokens only (the library's default, explicit: another
      // client's token is refused with invalid_request, test/security/oidc-client-mix-up).
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => {
          if (token.clientId === client.clientId) return true;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      rpInitiatedLogout: { enabled: true },
      devInteractions: { enabled: false },
      registration: { enabled: false },
      // Per client (sesame clients create --userinfo-alg / --userinfo-enc-alg): userinfo as a
      // signed, or signed then encrypted, JWT. Asymmetric encryption only (ASYMMETRIC_ENC).
      jwtUserinfo: { enabled: true },
      encryption: { enabled: true },
    },
    // Refresh tokens only to a client registered with --refresh-tokens (its metadata then
    // carries the refresh_token grant), with each code exchange; rotated at every use (a
    // replayed one revokes the grant: the library's reuse detection).
    issueRefreshToken: (_ctx, client, source) => client.grantTypeAllowed('refresh_token') && source.kind === 'AuthorizationCode',
    rotateRefreshToken: true,
    renderError,
    // Short by default, configurable (lifetimes.ts); a provider session and grant last no
    // longer than our own 12-hour sessions, and the provider's session follows ours anyway.
    ttl: { ...lifetimes, Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600 },
  };
}

export function createOidcProvider(options: OidcProviderOptions): Provider {
  const { issuer, signingKeys, cookieKeys, configuration, lifetimes, store } = options;
  const base = baseConfiguration(store, signingKeys, cookieKeys, lifetimes);
  const features = { ...base.features, ...(configuration?.features ?? {}) } as Configuration['features'];
  const provider = new Provider(issuer, { ...base, ...configuration, features });
  installSecretCheck(provider, store.ring);
  installContractAnswers(provider);
  installReplayClaim(provider);
  return provider;
}
