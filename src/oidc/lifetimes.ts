/**
 * How long what the provider issues lives, in seconds. The defaults are the short ones:
 * a code is exchanged at once, an access token is used at once for userinfo, an ID token is
 * validated at once. A service that must call again asks for a refresh token (if allowed) or
 * signs the citizen in again (silently, while the Sésame session lasts).
 */
export interface OidcLifetimes {
  AuthorizationCode: number;
  AccessToken: number;
  IdToken: number;
  ClientCredentials: number;
  RefreshToken: number;
}

export const DEFAULT_OIDC_LIFETIMES: OidcLifetimes = { AuthorizationCode: 30, AccessToken: 60, IdToken: 60, ClientCredentials: 60, RefreshToken: 8 * 3600 };

/** Variable, bounds (seconds). A code longer than 10 minutes is refused (RFC 6749 §4.1.2). */
export const OIDC_LIFETIME_ENV: Record<keyof OidcLifetimes, { variable: string; min: number; max: number }> = {
  AuthorizationCode: { variable: 'SESAME_OIDC_CODE_TTL_SECONDS', min: 5, max: 600 },
  AccessToken: { variable: 'SESAME_OIDC_ACCESS_TOKEN_TTL_SECONDS', min: 10, max: 3600 },
  IdToken: { variable: 'SESAME_OIDC_ID_TOKEN_TTL_SECONDS', min: 10, max: 3600 },
  ClientCredentials: { variable: 'SESAME_OIDC_CLIENT_CREDENTIALS_TTL_SECONDS', min: 10, max: 3600 },
  // No longer than the provider's session and grant (8 h, provider.ts): a refresh token dies with them.
  RefreshToken: { variable: 'SESAME_OIDC_REFRESH_TOKEN_TTL_SECONDS', min: 60, max: 8 * 3600 },
};

export class OidcLifetimeError extends Error {
  override name = 'OidcLifetimeError';
}

export function oidcLifetimesFromEnv(env: NodeJS.ProcessEnv): OidcLifetimes {
  const out = { ...DEFAULT_OIDC_LIFETIMES };
  for (const [name, rule] of Object.entries(OIDC_LIFETIME_ENV) as [keyof OidcLifetimes, (typeof OIDC_LIFETIME_ENV)[keyof OidcLifetimes]][]) {
    const raw = env[rule.variable]?.trim();
    if (raw === undefined || raw === '') continue;
    if (!/^\d{1,9}$/.test(raw) || Number(raw) < rule.min || Number(raw) > rule.max) throw new OidcLifetimeError(`${rule.variable}: must be a whole number of seconds from ${rule.min} to ${rule.max}`);
    out[name] = Number(raw);
  }
  return out;
}
