import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { audit } from '../audit/log.ts';
import type { Clock } from '../clock.ts';
import { citizen, UUID, type Tx } from '../db/contexts.ts';
import { PgAdapter, type OidcStore } from './adapter.ts';

/**
 * Connected services: the consent a citizen gave each service (oidc_consents, migration 028)
 * and the provider grant that carries it. The provider's rows are sealed and keyed by HMACs,
 * so this table is where the account ↔ client ↔ grant link lives:
 *
 * - the consent is remembered per service, not per browser: `loadExistingGrant` finds the
 *   recorded grant (and makes it again, with exactly what was consented to, when it expired
 *   or a logout or a token revocation ended it);
 * - "Retirer l'accès" deletes the record and the grant with every code and token issued from
 *   it: the service's tokens stop working at once and its next sign-in asks consent again.
 */
export type Grant = InstanceType<Provider['Grant']>;

const CLIENT_ID = /^[A-Za-z0-9_-]{16,64}$/;
export const isClientId = (v: string): boolean => CLIENT_ID.test(v);

export interface ConsentRecord {
  grantId: string;
  scopes: string[];
  claims: string[];
}

interface ConsentRow extends Record<string, unknown> {
  grant_id: string;
  scopes: string[];
  claims: string[];
}

const words = (scope: string): string[] => scope.split(' ').filter((s) => s !== '');

/**
 * Records what the citizen just consented to (the whole grant after the consent page: what
 * was given before and what the page listed), in the citizen's own context, with its audit
 * event. Returns the grant the record named before, when another one: the caller revokes it.
 */
export async function recordConsent(
  tx: Tx,
  clock: Clock,
  input: { accountId: string; clientId: string; grant: Grant; grantId: string; added: string[]; requestId?: string },
): Promise<{ replaced: string | null }> {
  const now = clock.now();
  const { rows } = await tx.query<{ grant_id: string }>(`SELECT grant_id FROM oidc_consents WHERE account_id = $1 AND client_id = $2 FOR UPDATE`, [input.accountId, input.clientId]);
  const before = rows[0]?.grant_id ?? null;
  await tx.query(
    `INSERT INTO oidc_consents (account_id, client_id, grant_id, scopes, claims, consented_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)
     ON CONFLICT (account_id, client_id) DO UPDATE SET grant_id = EXCLUDED.grant_id, scopes = EXCLUDED.scopes, claims = EXCLUDED.claims, updated_at = EXCLUDED.updated_at`,
    [input.accountId, input.clientId, input.grantId, words(input.grant.getOIDCScope()), input.grant.getOIDCClaims(), now],
  );
  await audit(tx, clock, { type: 'oidc.consent-given', accountId: input.accountId, requestId: input.requestId, payload: { clientId: input.clientId, scopes: input.added } });
  return { replaced: before !== null && before !== input.grantId ? before : null };
}

/** Runs a function in the citizen's context: `citizen()`, or `citizenRequest()` for a request of theirs (identity proof). */
export type InCitizen = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

async function consentOf(inCitizen: InCitizen, accountId: string, clientId: string): Promise<ConsentRecord | null> {
  const { rows } = await inCitizen((tx) => tx.query<ConsentRow>(`SELECT grant_id, scopes, claims FROM oidc_consents WHERE account_id = $1 AND client_id = $2`, [accountId, clientId]));
  const row = rows[0];
  return row ? { grantId: row.grant_id, scopes: row.scopes, claims: row.claims } : null;
}

/**
 * Deletes a grant and every code and token issued from it (the provider's adapter, by grant).
 * Through the provider's own store: the deletes wait for its saves already started (the grant
 * saved again, or a token of it, would otherwise land after them). A token whose save starts
 * later is written, and refused on use: the provider loads its grant, gone, at each use.
 */
export async function revokeGrant(store: OidcStore, grantId: string): Promise<void> {
  const grants = new PgAdapter('Grant', store);
  await grants.revokeByGrantId(grantId);
  await grants.destroy(grantId);
}

/**
 * The provider's `loadExistingGrant`: the grant of the consent this account gave this client.
 * No record (never consented, or withdrawn): none, so the consent prompt is shown, whatever
 * grant a browser's provider session still names. A record whose grant is gone (expired,
 * ended by a logout or a revoked refresh token): the same consent, in a new grant.
 */
export function consentedGrantLoader(store: OidcStore): (ctx: KoaContextWithOIDC) => Promise<Grant | undefined> {
  return async (ctx) => {
    const { provider } = ctx.oidc;
    const client = ctx.oidc.client;
    const accountId = ctx.oidc.session?.accountId;
    // Just back from our consent page: the grant it saved (and recorded).
    const fresh = ctx.oidc.result?.consent?.grantId;
    if (typeof fresh === 'string') return provider.Grant.find(fresh);
    if (!client || typeof accountId !== 'string' || !UUID.test(accountId)) return undefined;
    const record = await consentOf((fn) => citizen(store.db, accountId, fn), accountId, client.clientId);
    if (!record) return undefined;
    const grant = await provider.Grant.find(record.grantId);
    if (grant && grant.accountId === accountId && grant.clientId === client.clientId) return grant;
    const again = new provider.Grant({ accountId, clientId: client.clientId });
    again.addOIDCScope(record.scopes);
    if (record.claims.length > 0) again.addOIDCClaims(record.claims);
    const grantId = await again.save();
    const { rowCount } = await citizen(store.db, accountId, (tx) =>
      tx.query(`UPDATE oidc_consents SET grant_id = $3 WHERE account_id = $1 AND client_id = $2 AND grant_id = $4`, [accountId, client.clientId, grantId, record.grantId]),
    );
    if (rowCount === 1) return again;
    // Another request re-made the grant first, or the consent was withdrawn meanwhile: ours is
    // dropped (no grant may live unrecorded: « Retirer l'accès » finds grants by the record),
    // and the record as it is now decides.
    await revokeGrant(store, grantId);
    const now = await consentOf((fn) => citizen(store.db, accountId, fn), accountId, client.clientId);
    const current = now ? await provider.Grant.find(now.grantId) : undefined;
    return current && current.accountId === accountId && current.clientId === client.clientId ? current : undefined;
  };
}

/** A service the citizen consented to, as /account/security lists it. */
export interface ConnectedService {
  clientId: string;
  name: string;
  scopes: string[];
  claims: string[];
  consentedAt: Date;
  updatedAt: Date;
  disabled: boolean;
}

/** The account's connected services, most recent consent first (citizen context: its own only). */
export async function listConnectedServices(tx: Tx, accountId: string): Promise<ConnectedService[]> {
  const { rows } = await tx.query<{ client_id: string; name: string; scopes: string[]; claims: string[]; consented_at: Date; updated_at: Date; disabled_at: Date | null }>(
    `SELECT c.client_id, k.name, c.scopes, c.claims, c.consented_at, c.updated_at, k.disabled_at
       FROM oidc_consents c JOIN oidc_clients k ON k.client_id = c.client_id
      WHERE c.account_id = $1 ORDER BY c.updated_at DESC, c.client_id`,
    [accountId],
  );
  return rows.map((r) => ({
    clientId: r.client_id,
    name: r.name,
    scopes: r.scopes,
    claims: r.claims,
    consentedAt: r.consented_at,
    updatedAt: r.updated_at,
    disabled: r.disabled_at !== null,
  }));
}

/**
 * "Retirer l'accès": the citizen's own record (row-level security: another account's client id
 * reads as none) is deleted with its audit event first, then its grant is revoked with every
 * code and token. In that order, a sign-in running meanwhile cannot leave a grant behind: it
 * finds no record, or finds its own re-made grant refused (consentedGrantLoader). Should the
 * revocation fail, the citizen sees an error; the grant is unrecorded, so no sign-in reuses it,
 * and its tokens die with it when it expires. False when this account has no such consent.
 */
export async function withdrawConsent(
  store: OidcStore,
  clock: Clock,
  input: { accountId: string; clientId: string; requestId?: string },
  inCitizen: InCitizen = (fn) => citizen(store.db, input.accountId, fn),
): Promise<boolean> {
  if (!isClientId(input.clientId)) return false;
  const deleted = await inCitizen(async (tx) => {
    const { rows } = await tx.query<{ grant_id: string }>(`DELETE FROM oidc_consents WHERE account_id = $1 AND client_id = $2 RETURNING grant_id`, [input.accountId, input.clientId]);
    const row = rows[0];
    if (row) await audit(tx, clock, { type: 'oidc.consent-revoked', accountId: input.accountId, requestId: input.requestId, payload: { clientId: input.clientId, via: 'account' } });
    return row?.grant_id ?? null;
  });
  if (deleted === null) return false;
  await revokeGrant(store, deleted);
  return true;
}
