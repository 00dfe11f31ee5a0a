/**
 * What a relying party may be registered with: FranceConnect's scopes, eIDAS levels, our
 * three client authentication methods, and redirect URIs that match exactly.
 */
export const SCOPES = [
  'openid',
  'identite_pivot',
  'profile',
  'birth',
  'email',
  'phone',
  'preferred_username',
  'given_name',
  'family_name',
  'birthdate',
  'gender',
  'birthplace',
  'birthcountry',
] as const;
export type Scope = (typeof SCOPES)[number];

export const ACR_VALUES = ['eidas1', 'eidas2', 'eidas3'] as const;
export type Acr = (typeof ACR_VALUES)[number];

/** `none`: a public client (an app in the citizen's browser or device) with no secret, PKCE S256 required. */
export const AUTH_METHODS = ['client_secret_post', 'client_secret_basic', 'private_key_jwt', 'none'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** Signatures of ID tokens and of userinfo responses (ES256 by default). */
export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** Userinfo encryption to the client's public key (its jwks_uri): key management, then content encryption. */
export const ENCRYPTION_ALGS = ['ECDH-ES', 'RSA-OAEP', 'RSA-OAEP-256'] as const;
export type EncryptionAlg = (typeof ENCRYPTION_ALGS)[number];
export const ENCRYPTION_ENCS = ['A128GCM', 'A256GCM', 'A128CBC-HS256', 'A256CBC-HS512'] as const;
export type EncryptionEnc = (typeof ENCRYPTION_ENCS)[number];

export const MAX_REDIRECT_URIS = 20;

/** A rejected input, naming the command-line flag it came from. */
export class ClientInputError extends Error {
  override name = 'ClientInputError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

const oneOf = <T extends string>(field: string, allowed: readonly T[], value: string): T => {
  if (!(allowed as readonly string[]).includes(value)) throw new ClientInputError(field, `must be one of ${allowed.join(', ')}`);
  return value as T;
};

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A redirect URI is compared byte for byte by the provider, so what is registered must be
 * one exact absolute URL: https (http only on the loopback, for developers), no fragment
 * (RFC 6749 §3.1.2), no wildcard, no userinfo (`https://good@evil`), no backslash tricks.
 * The error never quotes the value (operators paste URLs with tokens in them).
 */
export function checkRedirectUri(value: string, field: 'redirect-uri' | 'post-logout-redirect-uri' = 'redirect-uri'): string {
  const fail = (why: string): never => {
    throw new ClientInputError(field, why);
  };
  if (value.length === 0 || value.length > 2000) fail('must be between 1 and 2000 characters');
  if (/[\s\\*\u0000-\u001f\u007f]/.test(value)) fail('must not contain spaces, backslashes, wildcards or control characters');
  if (value.includes('#')) fail('must not contain a fragment (#)');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('must be an absolute URL');
  }
  if (url.username || url.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?]*@/i.test(value)) fail('must not contain userinfo (user@host)');
  if (url.protocol === 'http:') {
    if (!LOOPBACK.has(url.hostname)) fail('must use https (http only for localhost and 127.0.0.1)');
  } else if (url.protocol !== 'https:') {
    fail('must use https');
  }
  // What the provider will compare against: the URL as typed must already be its own
  // normal form, or a client sending the typed form would never match (or, worse, another would).
  if (url.href !== value) fail('must be in normal form, as a browser writes it (lower-case scheme and host, no default port, no dot segments, a / after the host)');
  return value;
}

export function checkScopes(value: string): Scope[] {
  const words = value.split(/\s+/).filter(Boolean);
  const unknown = words.filter((w) => !(SCOPES as readonly string[]).includes(w));
  if (unknown.length > 0) throw new ClientInputError('scopes', `unknown scope (allowed: ${SCOPES.join(' ')})`);
  if (!words.includes('openid')) throw new ClientInputError('scopes', 'must include openid');
  return [...new Set(words)] as Scope[];
}

export function checkAcr(field: 'acr-min' | 'acr-default', value: string): Acr {
  if (!(ACR_VALUES as readonly string[]).includes(value)) throw new ClientInputError(field, `must be one of ${ACR_VALUES.join(', ')}`);
  return value as Acr;
}

export function checkAuthMethod(value: string): AuthMethod {
  return oneOf('auth-method', AUTH_METHODS, value);
}

export function checkName(value: string): string {
  const name = value.trim();
  if (name.length < 1 || name.length > 100 || /\p{Cc}/u.test(name)) throw new ClientInputError('name', 'must be 1 to 100 characters, without control characters');
  return name;
}

export function checkJwksUri(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ClientInputError('jwks-uri', 'must be an absolute https URL');
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.hash) throw new ClientInputError('jwks-uri', 'must be an absolute https URL without userinfo or fragment');
  return url.href;
}

/**
 * A sector: clients registered with the same one (the services of one administration) get the
 * same pairwise `sub` for a citizen; without one, each client gets its own.
 */
export function checkSector(value: string): string {
  if (!/^[a-z0-9][a-z0-9.-]{0,62}$/.test(value)) throw new ClientInputError('sector', 'must be 1 to 63 lower-case letters, digits, dots or hyphens (e.g. dgfip.gouv.fr)');
  return value;
}

const rank = (acr: Acr): number => ACR_VALUES.indexOf(acr);

export interface ClientInput {
  name: string;
  redirectUris: string[];
  scopes: string;
  acrMin?: string | undefined;
  acrDefault?: string | undefined;
  authMethod?: string | undefined;
  jwksUri?: string | undefined;
  /** A machine client: may use the client-credentials grant. */
  clientCredentials?: boolean | undefined;
  idTokenAlg?: string | undefined;
  /** Userinfo as a signed JWT (absent: plain JSON). */
  userinfoAlg?: string | undefined;
  /** Userinfo signed then encrypted to the client's keys (needs jwksUri and userinfoAlg). */
  userinfoEncAlg?: string | undefined;
  userinfoEnc?: string | undefined;
  /** May receive refresh tokens (the refresh_token grant); never a public client. */
  refreshTokens?: boolean | undefined;
  /** Where RP-initiated logout may send the citizen back, matched exactly like redirect URIs. */
  postLogoutRedirectUris?: string[] | undefined;
  sector?: string | undefined;
}

export interface CheckedClient {
  name: string;
  redirectUris: string[];
  scopes: Scope[];
  /** The stored grants: refresh_token is added to the provider metadata from refreshTokens. */
  grantTypes: ('authorization_code' | 'client_credentials')[];
  acrMin: Acr;
  acrDefault: Acr;
  authMethod: AuthMethod;
  jwksUri: string | null;
  idTokenAlg: SigningAlg;
  /** null: userinfo as plain JSON. */
  userinfoSignedAlg: SigningAlg | null;
  userinfoEncryptedAlg: EncryptionAlg | null;
  userinfoEncryptedEnc: EncryptionEnc | null;
  refreshTokens: boolean;
  postLogoutRedirectUris: string[];
  /** null: the client's own pairwise sub. */
  sector: string | null;
}

/** Every rule at once, so that the first wrong flag is named. */
export function checkClient(input: ClientInput): CheckedClient {
  const name = checkName(input.name);
  if (input.redirectUris.length > MAX_REDIRECT_URIS) throw new ClientInputError('redirect-uri', `at most ${MAX_REDIRECT_URIS}`);
  const redirectUris = [...new Set(input.redirectUris.map((u) => checkRedirectUri(u)))];
  if (redirectUris.length === 0 && !input.clientCredentials) throw new ClientInputError('redirect-uri', 'is required (at least one)');
  const scopes = checkScopes(input.scopes);
  const acrMin = checkAcr('acr-min', input.acrMin ?? 'eidas1');
  const acrDefault = checkAcr('acr-default', input.acrDefault ?? acrMin);
  if (rank(acrDefault) < rank(acrMin)) throw new ClientInputError('acr-default', 'must not be below --acr-min');
  const authMethod = checkAuthMethod(input.authMethod ?? 'client_secret_basic');
  const jwksUri = input.jwksUri === undefined ? null : checkJwksUri(input.jwksUri);
  if (authMethod === 'private_key_jwt' && !jwksUri) throw new ClientInputError('jwks-uri', 'is required with --auth-method private_key_jwt');
  const idTokenAlg = oneOf('id-token-alg', SIGNING_ALGS, input.idTokenAlg ?? 'ES256');
  const userinfoSignedAlg = input.userinfoAlg === undefined ? null : oneOf('userinfo-alg', SIGNING_ALGS, input.userinfoAlg);
  const userinfoEncryptedAlg = input.userinfoEncAlg === undefined ? null : oneOf('userinfo-enc-alg', ENCRYPTION_ALGS, input.userinfoEncAlg);
  if (input.userinfoEnc !== undefined && !userinfoEncryptedAlg) throw new ClientInputError('userinfo-enc', 'is only used with --userinfo-enc-alg');
  // OpenID Connect Registration's default content encryption.
  const userinfoEncryptedEnc = userinfoEncryptedAlg ? oneOf('userinfo-enc', ENCRYPTION_ENCS, input.userinfoEnc ?? 'A128CBC-HS256') : null;
  if (userinfoEncryptedAlg && !userinfoSignedAlg) throw new ClientInputError('userinfo-enc-alg', 'needs --userinfo-alg (userinfo is signed, then encrypted)');
  if (userinfoEncryptedAlg && !jwksUri) throw new ClientInputError('jwks-uri', 'is required with --userinfo-enc-alg (the keys userinfo is encrypted to)');
  if (jwksUri && authMethod !== 'private_key_jwt' && !userinfoEncryptedAlg) throw new ClientInputError('jwks-uri', 'is only used with --auth-method private_key_jwt or --userinfo-enc-alg');
  const grantTypes: CheckedClient['grantTypes'] = [];
  if (redirectUris.length > 0) grantTypes.push('authorization_code');
  if (input.clientCredentials) {
    if (authMethod === 'none') throw new ClientInputError('client-credentials', 'is not allowed with --auth-method none (a public client cannot authenticate)');
    grantTypes.push('client_credentials');
  }
  const refreshTokens = input.refreshTokens ?? false;
  if (refreshTokens && authMethod === 'none') throw new ClientInputError('refresh-tokens', 'is not allowed with --auth-method none (a public client cannot keep a refresh token safe)');
  if (refreshTokens && redirectUris.length === 0) throw new ClientInputError('refresh-tokens', 'needs --redirect-uri (refresh tokens come with the authorization code grant)');
  const logoutUris = input.postLogoutRedirectUris ?? [];
  if (logoutUris.length > MAX_REDIRECT_URIS) throw new ClientInputError('post-logout-redirect-uri', `at most ${MAX_REDIRECT_URIS}`);
  const postLogoutRedirectUris = [...new Set(logoutUris.map((u) => checkRedirectUri(u, 'post-logout-redirect-uri')))];
  if (postLogoutRedirectUris.length > 0 && redirectUris.length === 0) throw new ClientInputError('post-logout-redirect-uri', 'needs --redirect-uri (a machine client signs no citizen in)');
  const sector = input.sector === undefined ? null : checkSector(input.sector);
  return { name, redirectUris, scopes, grantTypes, acrMin, acrDefault, authMethod, jwksUri, idTokenAlg, userinfoSignedAlg, userinfoEncryptedAlg, userinfoEncryptedEnc, refreshTokens, postLogoutRedirectUris, sector };
}
