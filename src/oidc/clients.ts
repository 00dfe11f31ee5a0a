import type { Clock } from '../clock.ts';
import type { Tx } from '../db/contexts.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import { randomToken } from '../crypto/random.ts';
import { checkClient, type Acr, type AuthMethod, type ClientInput } from './client-policy.ts';
import { newClientSecret, secretMac, storedSecret } from './client-secret.ts';

/** The registry of relying parties (table oidc_clients): what `sesame clients …` manages. */
export interface RegisteredClient {
  clientId: string;
  name: string;
  redirectUris: string[];
  scopes: string[];
  grantTypes: string[];
  acrMin: Acr;
  acrDefault: Acr;
  authMethod: AuthMethod;
  jwksUri: string | null;
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
  secret_mac: Uint8Array | null;
  created_at: Date;
  created_by: string;
  secret_rotated_at: Date | null;
  disabled_at: Date | null;
};

const COLUMNS = `client_id, name, redirect_uris, scopes, grant_types, acr_min, acr_default, auth_method, jwks_uri, secret_mac, created_at, created_by, secret_rotated_at, disabled_at`;

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
  createdAt: r.created_at,
  createdBy: r.created_by,
  secretRotatedAt: r.secret_rotated_at,
  disabledAt: r.disabled_at,
});

/** Creates a client; the secret (none for private_key_jwt) is returned once and kept only as a MAC. */
export async function createClient(tx: Tx, ring: KeyRing, clock: Clock, input: ClientInput, createdBy: string): Promise<{ client: RegisteredClient; secret: string | null }> {
  const c = checkClient(input);
  const clientId = randomToken(18); // 24 characters, unguessable: client ids end up in logs and URLs
  const secret = c.authMethod === 'private_key_jwt' ? null : newClientSecret();
  const { rows } = await tx.query<Row>(
    `INSERT INTO oidc_clients (client_id, name, redirect_uris, scopes, grant_types, acr_min, acr_default, auth_method, jwks_uri, secret_mac, created_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
    [clientId, c.name, c.redirectUris, c.scopes, c.grantTypes, c.acrMin, c.acrDefault, c.authMethod, c.jwksUri, secret ? secretMac(ring, clientId, secret) : null, clock.now(), createdBy],
  );
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
  if (rowCount === 1) return 'disabled';
  return (await findClient(tx, clientId)) ? 'already' : 'unknown';
}

/** A new secret; the old one stops working at once (the provider reads the MAC on each request). */
export async function rotateClientSecret(tx: Tx, ring: KeyRing, clock: Clock, clientId: string): Promise<string | 'unknown' | 'disabled' | 'no-secret'> {
  const client = await findClient(tx, clientId);
  if (!client) return 'unknown';
  if (client.disabledAt) return 'disabled';
  if (client.authMethod === 'private_key_jwt') return 'no-secret';
  const secret = newClientSecret();
  await tx.query(`UPDATE oidc_clients SET secret_mac = $2, secret_rotated_at = $3 WHERE client_id = $1`, [clientId, secretMac(ring, clientId, secret), clock.now()]);
  return secret;
}

/** Extra client metadata the provider must be told about (`extraClientMetadata.properties`). */
export const EXTRA_CLIENT_METADATA = ['acr_min'] as const;

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
    grant_types: r.grant_types,
    response_types: r.grant_types.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: r.auth_method,
    ...(r.jwks_uri ? { jwks_uri: r.jwks_uri } : {}),
    scope: r.scopes.join(' '),
    default_acr_values: [r.acr_default],
    acr_min: r.acr_min,
    id_token_signed_response_alg: 'ES256',
  };
}
