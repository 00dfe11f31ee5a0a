import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** The library's description of a grant type the client is not registered for (pinned by package-lock; tested). */
const GRANT_NOT_ALLOWED = 'requested grant type is not allowed for this client';

/** Discovery entries for what no client of ours can use: ID tokens are signed, never encrypted (clients.ts has no such option). */
const NOT_OFFERED = ['id_token_encryption_alg_values_supported', 'id_token_encryption_enc_values_supported'] as const;

/**
 * Where the library's answers depart from the contract in docs/integration.md, put right after
 * it answered:
 * - a grant type the client is not registered for is `unauthorized_client` (RFC 6749 §5.2),
 *   where the library says `invalid_request`; checked only once the client has authenticated
 *   (an unknown or unauthenticated client still gets `invalid_client` first);
 * - discovery does not advertise ID-token encryption, which no client can register.
 */
export function installContractAnswers(provider: Provider): void {
  provider.use(async (ctx, next) => {
    await next();
    // Undefined when the request failed before reaching one of the provider's routes.
    const route = (ctx.oidc as KoaContextWithOIDC['oidc'] | undefined)?.route;
    const body = typeof ctx.body === 'object' && ctx.body !== null && !Buffer.isBuffer(ctx.body) ? (ctx.body as Record<string, unknown>) : null;
    if (!body) return;
    if (route === 'token' && ctx.status === 400 && body.error === 'invalid_request' && body.error_description === GRANT_NOT_ALLOWED) {
      body.error = 'unauthorized_client';
    } else if (route === 'discovery') {
      for (const key of NOT_OFFERED) delete body[key];
    }
  });
}
