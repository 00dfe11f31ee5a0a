import { errors, type Adapter, type AdapterFactory, type AdapterPayload } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import { system, UUID, type Tx } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import { DecryptionError, open, seal } from '../crypto/envelope.ts';
import { KeyFileError, type KeyRing } from '../crypto/keyring.ts';
import { hmac } from '../crypto/mac.ts';
import { OidcPayloadKeys } from './payload-keys.ts';

/**
 * The PostgreSQL adapter for every oidc-provider model (one table, oidc_payloads; see
 * migration 024). What a database dump shows of a row: the model name, HMACs of its ids, the
 * account id it is about, its expiry and consumption times; never a token, a code, a
 * session id or anything the payload says (see docs/integration.md, "What is stored").
 */
export interface OidcStoreDeps {
  db: Database;
  ring: KeyRing;
  clock: Clock;
}

/** What every model's adapter of one provider shares: its dependencies and its data keys. */
export interface OidcStore extends OidcStoreDeps {
  keys: OidcPayloadKeys;
}

export function createOidcStore(deps: OidcStoreDeps): OidcStore {
  return { ...deps, keys: new OidcPayloadKeys(deps.db, deps.ring, deps.clock) };
}

/** Models whose rows belong to a grant (revoked with it), as in oidc-provider's memory adapter. */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);
const MODEL = /^[A-Z][A-Za-z]{1,63}$/;

/** Keyed, so that a dump cannot be searched for a token seen elsewhere. One purpose per index. */
const mac = (ring: KeyRing, purpose: 'id' | 'uid' | 'user-code', value: string): Buffer => hmac(ring.macKey, `oidc-${purpose}\0${value}`);

type Row = { key_id: string; payload: Uint8Array; consumed_at: Date | null; id_mac: Uint8Array };

export class PgAdapter implements Adapter {
  readonly name: string;
  readonly #store: OidcStore;
  readonly #reason: string;

  constructor(name: string, store: OidcStore) {
    if (!MODEL.test(name)) throw new TypeError('oidc adapter: invalid model name');
    this.name = name;
    this.#store = store;
    this.#reason = `oidc:${name.replace(/[A-Z]/g, (c, i: number) => (i ? '-' : '') + c.toLowerCase())}`;
  }

  #tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return system(this.#store.db, this.#reason, fn);
  }

  #aad(idMac: Uint8Array): string {
    return `oidc:${this.name}:${Buffer.from(idMac).toString('base64url')}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const { ring, clock, keys } = this.#store;
    const now = clock.now();
    const idMac = mac(ring, 'id', id);
    const grantId = GRANTABLE.has(this.name) && typeof payload.grantId === 'string' ? mac(ring, 'id', payload.grantId) : null;
    const uid = this.name === 'Session' && typeof payload.uid === 'string' ? mac(ring, 'uid', payload.uid) : null;
    const userCode = typeof payload.userCode === 'string' ? mac(ring, 'user-code', payload.userCode) : null;
    const accountId = typeof payload.accountId === 'string' && UUID.test(payload.accountId) ? payload.accountId : null;
    const expiresAt = typeof expiresIn === 'number' ? new Date(now.getTime() + expiresIn * 1000) : null;
    const consumedAt = typeof payload.consumed === 'number' ? new Date(payload.consumed * 1000) : null;
    const key = await keys.current();
    await this.#tx(async (tx) => {
      const sealed = seal(key.key, this.#aad(idMac), Buffer.from(JSON.stringify(payload), 'utf8'));
      // A consumed code stays consumed whatever is saved over it later.
      await tx.query(
        `INSERT INTO oidc_payloads (model, id_mac, key_id, payload, grant_mac, uid_mac, user_code_mac, account_id, expires_at, consumed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (model, id_mac) DO UPDATE SET key_id = EXCLUDED.key_id, payload = EXCLUDED.payload, grant_mac = EXCLUDED.grant_mac,
           uid_mac = EXCLUDED.uid_mac, user_code_mac = EXCLUDED.user_code_mac, account_id = EXCLUDED.account_id,
           expires_at = EXCLUDED.expires_at, consumed_at = COALESCE(oidc_payloads.consumed_at, EXCLUDED.consumed_at)`,
        [this.name, idMac, key.id, sealed, grantId, uid, userCode, accountId, expiresAt, consumedAt],
      );
    });
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return this.#findBy('id_mac', mac(this.#store.ring, 'id', id));
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#findBy('uid_mac', mac(this.#store.ring, 'uid', uid));
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findBy('user_code_mac', mac(this.#store.ring, 'user-code', userCode));
  }

  /** Expired rows are never returned, whether or not housekeeping has deleted them yet. */
  async #findBy(column: 'id_mac' | 'uid_mac' | 'user_code_mac', value: Buffer): Promise<AdapterPayload | undefined> {
    return this.#tx(async (tx) => {
      const { rows } = await tx.query<Row>(
        `SELECT id_mac, key_id, payload, consumed_at FROM oidc_payloads
          WHERE model = $1 AND ${column} = $2 AND (expires_at IS NULL OR expires_at > $3) LIMIT 1`,
        [this.name, value, this.#store.clock.now()],
      );
      const row = rows[0];
      return row ? this.#open(tx, row) : undefined;
    });
  }

  async #open(tx: Tx, row: Row): Promise<AdapterPayload | undefined> {
    let payload: AdapterPayload;
    try {
      const key = await this.#store.keys.byId(tx, row.key_id);
      payload = JSON.parse(open(key, this.#aad(row.id_mac), Buffer.from(row.payload)).toString('utf8')) as AdapterPayload;
    } catch (err) {
      // A payload that does not authenticate, or whose KEK was retired, is as good as gone:
      // the provider then starts over (new login) rather than trusting it.
      if (err instanceof DecryptionError || err instanceof KeyFileError) return undefined;
      throw err;
    }
    if (row.consumed_at) payload.consumed = Math.floor(row.consumed_at.getTime() / 1000);
    return payload;
  }

  /**
   * Exactly once under concurrency: a guarded UPDATE, like the project's one-time codes. The
   * loser of a race (or a replay) gets invalid_grant, and the grant is revoked with every
   * token issued from it (RFC 6749 §4.1.2: a code used twice).
   */
  async consume(id: string): Promise<void> {
    const { ring, clock } = this.#store;
    const idMac = mac(ring, 'id', id);
    const outcome = await this.#tx(async (tx) => {
      const now = clock.now();
      const won = await tx.query(
        `UPDATE oidc_payloads SET consumed_at = $3 WHERE model = $1 AND id_mac = $2 AND consumed_at IS NULL AND (expires_at IS NULL OR expires_at > $3)`,
        [this.name, idMac, now],
      );
      if (won.rowCount === 1) return 'consumed';
      const { rows } = await tx.query<{ grant_mac: Uint8Array | null }>(
        `SELECT grant_mac FROM oidc_payloads WHERE model = $1 AND id_mac = $2 AND consumed_at IS NOT NULL`,
        [this.name, idMac],
      );
      const replayed = rows[0];
      if (!replayed) return 'unknown';
      if (replayed.grant_mac) {
        await tx.query(`DELETE FROM oidc_payloads WHERE grant_mac = $1 OR (model = 'Grant' AND id_mac = $1)`, [replayed.grant_mac]);
      }
      return 'replayed';
    });
    if (outcome === 'consumed') return;
    const what = this.name === 'PushedAuthorizationRequest' ? errors.InvalidRequest : errors.InvalidGrant;
    throw new what(outcome === 'replayed' ? 'already consumed' : 'not found or expired');
  }

  async destroy(id: string): Promise<void> {
    const idMac = mac(this.#store.ring, 'id', id);
    await this.#tx((tx) => tx.query(`DELETE FROM oidc_payloads WHERE model = $1 AND id_mac = $2`, [this.name, idMac]));
  }

  /** Every model's rows of the grant (the provider destroys the Grant itself separately). */
  async revokeByGrantId(grantId: string): Promise<void> {
    const grantMac = mac(this.#store.ring, 'id', grantId);
    await this.#tx((tx) => tx.query(`DELETE FROM oidc_payloads WHERE grant_mac = $1`, [grantMac]));
  }
}

/** `new Provider(issuer, { adapter: oidcAdapter(store) })`: one adapter per model name. */
export function oidcAdapter(store: OidcStore): AdapterFactory {
  return (name: string) => new PgAdapter(name, store);
}

/** Ends everything the provider holds for an account (its sessions, grants and tokens). */
export async function deleteAccountOidcState(tx: Tx, accountId: string): Promise<number> {
  const grants = await tx.query<{ id_mac: Uint8Array }>(`SELECT id_mac FROM oidc_payloads WHERE model = 'Grant' AND account_id = $1`, [accountId]);
  const macs = grants.rows.map((r) => Buffer.from(r.id_mac));
  let n = 0;
  if (macs.length > 0) n += (await tx.query(`DELETE FROM oidc_payloads WHERE grant_mac = ANY($1::bytea[])`, [macs])).rowCount;
  n += (await tx.query(`DELETE FROM oidc_payloads WHERE account_id = $1`, [accountId])).rowCount;
  return n;
}
