import type { Clock } from '../clock.ts';
import type { Tx } from '../db/contexts.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import { randomToken } from '../crypto/random.ts';
import { checkClient, type Acr, type AuthMethod, type CheckedClient, type ClientInput, type EncryptionAlg, type EncryptionEnc, type SigningAlg } from './client-policy.ts';
import { newClientSecret, secretMac, storedSecret } from './client-secret.ts';

/**
 * The registry of relying parties (table oidc_clients): what `sesame clients …` manages. Its
 * settings are the checked input's; scopes and grant types are read back as stored.
 */
export interface RegisteredClient extends Omit<CheckedClient, 'scopes' | 'grantTypes'> {
  clientId: string;
  scopes: string[];
  grantTypes: string[];
  createdAt: Date;
  createdBy: string;
  secretRotatedAt: Date | null;
  disabledAt: Date | null;
}

type Row = {
  client_id: string;
  name: string;
  redirect_uris: string[];
  scopes: string[];
  grant_types: string[];
  acr_min: Acr;
  acr_default: Acr;
  auth_method: AuthMethod;
  jwks_uri: string | null;
  id_token_alg: SigningAlg;
  userinfo_signed_alg: SigningAlg | null;
  userinfo_encrypted_alg: EncryptionAlg | null;
  userinfo_encrypted_enc: EncryptionEnc | null;
  refresh_tokens: boolean;
  post_logout_redirect_uris: string[];
  sector: string | null;
  secret_mac: Uint8Array | null;
  created_at: Date;
  created_by: string;
  secret_rotated_at: Date | null;
  disabled_at: Date | null;
};

const COLUMNS = `client_id, name, redirect_uris, scopes, grant_types, acr_min, acr_default, auth_method, jwks_uri, id_token_alg, userinfo_signed_alg, userinfo_encrypted_alg, userinfo_encrypted_enc, refresh_tokens, post_logout_redirect_uris, sector, secret_mac, created_at, created_by, secret_rotated_at, disabled_at`;

const toClient = (r: Row): RegisteredClient => ({
  clientId: r.client_id,
  name: r.name,
  redirectUris: r.redirect_uris,
  scopes: r.scopes,
  grantTypes: r.grant_types,
  acrMin: r.acr_min,
  acrDefault: r.acr_default,
  authMethod: r.auth_method,
  jwksUri: r.jwks_uri,
  idTokenAlg: r.id_token_alg,
  userinfoSignedAlg: r.userinfo_signed_alg,
  userinfoEncryptedAlg: r.userinfo_encrypted_alg,
  userinfoEncryptedEnc: r.userinfo_encrypted_enc,
  refreshTokens: r.refresh_tokens,
  postLogoutRedirectUris: r.post_logout_redirect_uris,
  sector: r.sector,
  createdAt: r.created_at,
  createdBy: r.created_by,
  secretRotatedAt: r.secret_rotated_at,
  disabledAt: r.disabled_at,
});

/** Whether a client of this method authenticates with a secret (not private_key_jwt, not a public client). */
export const hasSecret = (method: AuthMethod): boolean => method !== 'private_key_jwt' && method !== 'none';

/**
 * 24 characters, unguessable (client ids end up in logs and URLs), starting with a letter or
 * digit: one starting with `-` reads as an option on a command line (`--client-id -x…`).
 */
export function newClientId(): string {
  for (;;) {
    const id = randomToken(18);
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

/**
 * The channel on which every change of a client is announced, its client id as the payload
 * (a trigger does it too, migration 029, for changes made outside this module): each server's
 * client cache (client-adapter.ts) evicts that client. Through tx.notify, the cache of this
 * process is also told at once after the commit, before the command returns.
 */
export const CLIENTS_CHANNEL = 'sesame_oidc_clients';
const changed = (tx: Tx, clientId: string): void => (tx.notify ? tx.notify(CLIENTS_CHANNEL, clientId) : tx.send(`SELECT pg_notify($1, $2)`, [CLIENTS_CHANNEL, clientId]));

/** Creates a client; the secret (none for private_key_jwt and public clients) is returned once and kept only as a MAC. */
export async function createClient(tx: Tx, ring: KeyRing, clock: Clock, input: ClientInput, createdBy: string): Promise<{ client: RegisteredClient; secret: string | null }> {
  const c = checkClient(input);
  const clientId = newClientId();
  const secret = hasSecret(c.authMethod) ? newClientSecret() : null;
  const { rows } = await tx.query<Row>(
    `INSERT INTO oidc_clients (client_id, name, redirect_uris, scopes, grant_types, acr_min, acr_default, auth_method, jwks_uri, secret_mac, created_at, created_by,
       id_token_alg, userinfo_signed_alg, userinfo_encrypted_alg, userinfo_encrypted_enc, refresh_tokens, post_logout_redirect_uris, sector)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING ${COLUMNS}`,
    [
      clientId, c.name, c.redirectUris, c.scopes, c.grantTypes, c.acrMin, c.acrDefault, c.authMethod, c.jwksUri, secret ? secretMac(ring, clientId, secret) : null, clock.now(), createdBy,
      c.idTokenAlg, c.userinfoSignedAlg, c.userinfoEncryptedAlg, c.userinfoEncryptedEnc, c.refreshTokens, c.postLogoutRedirectUris, c.sector,
    ],
  );
  changed(tx, clientId);
  return { client: toClient(rows[0] as Row), secret };
}

export async function listClients(tx: Tx): Promise<RegisteredClient[]> {
  const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM oidc_clients ORDER BY created_at, client_id`);
  return rows.map(toClient);
}

/** Disabled clients too (for `show`); the provider uses enabledClientMetadata. */
export async function findClient(tx: Tx, clientId: string): Promise<RegisteredClient | null> {
  const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM oidc_clients WHERE client_id = $1`, [clientId]);
  return rows[0] ? toClient(rows[0]) : null;
}

export async function disableClient(tx: Tx, clock: Clock, clientId: string): Promise<'disabled' | 'already' | 'unknown'> {
  const { rowCount } = await tx.query(`UPDATE oidc_clients SET disabled_at = $2 WHERE client_id = $1 AND disabled_at IS NULL`, [clientId, clock.now()]);
  if (rowCount === 1) {
    changed(tx, clientId);
    return 'disabled';
  }
  return (await findClient(tx, clientId)) ? 'already' : 'unknown';
}

/** A new secret; the old one stops working at once (every server's client cache evicts the client at the commit). */
export async function rotateClientSecret(tx: Tx, ring: KeyRing, clock: Clock, clientId: string): Promise<string | 'unknown' | 'disabled' | 'no-secret'> {
  const client = await findClient(tx, clientId);
  if (!client) return 'unknown';
  if (client.disabledAt) return 'disabled';
  if (!hasSecret(client.authMethod)) return 'no-secret';
  const secret = newClientSecret();
  await tx.query(`UPDATE oidc_clients SET secret_mac = $2, secret_rotated_at = $3 WHERE client_id = $1`, [clientId, secretMac(ring, clientId, secret), clock.now()]);
  changed(tx, clientId);
  return secret;
}

/** Extra client metadata the provider must be told about (`extraClientMetadata.properties`). */
export const EXTRA_CLIENT_METADATA = ['acr_min', 'sector'] as const;

/**
 * The string the pairwise `sub` is derived from: the sector when the client has one (all the
 * clients of a sector get the same sub for a citizen), else the client itself.
 */
export const subjectSector = (client: { clientId: string; sector?: unknown }): string =>
  typeof client.sector === 'string' && client.sector !== '' ? `sector:${client.sector}` : `client:${client.clientId}`;

/** oidc-provider metadata of an enabled client, or undefined: a disabled client does not exist for it. */
export async function enabledClientMetadata(tx: Tx, clientId: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM oidc_clients WHERE client_id = $1 AND disabled_at IS NULL`, [clientId]);
  const r = rows[0];
  if (!r) return undefined;
  return {
    client_id: r.client_id,
    client_name: r.name,
    ...(r.secret_mac ? { client_secret: storedSecret(r.secret_mac) } : {}),
    redirect_uris: r.redirect_uris,
    grant_types: r.refresh_tokens ? [...r.grant_types, 'refresh_token'] : r.grant_types,
    response_types: r.grant_types.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: r.auth_method,
    ...(r.jwks_uri ? { jwks_uri: r.jwks_uri } : {}),
    scope: r.scopes.join(' '),
    default_acr_values: [r.acr_default],
    acr_min: r.acr_min,
    id_token_signed_response_alg: r.id_token_alg,
    ...(r.userinfo_signed_alg ? { userinfo_signed_response_alg: r.userinfo_signed_alg } : {}),
    ...(r.userinfo_encrypted_alg ? { userinfo_encrypted_response_alg: r.userinfo_encrypted_alg, userinfo_encrypted_response_enc: r.userinfo_encrypted_enc } : {}),
    ...(r.post_logout_redirect_uris.length > 0 ? { post_logout_redirect_uris: r.post_logout_redirect_uris } : {}),
    ...(r.sector ? { sector: r.sector } : {}),
  };
}
