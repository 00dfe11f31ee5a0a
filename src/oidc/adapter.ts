import Provider, { errors, type Adapter, type AdapterFactory, type AdapterPayload } from 'oidc-provider';
import type { Clock } from '../clock.ts';
import { system, UUID, type Tx } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import { DecryptionError, open, seal } from '../crypto/envelope.ts';
import { KeyFileError, type KeyRing } from '../crypto/keyring.ts';
import { hmac } from '../crypto/mac.ts';
import { OidcPayloadKeys } from './payload-keys.ts';
import { UPSERT_ONE, UpsertBatch, type UpsertRow } from './upsert-batch.ts';

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
  /** Told when a batch of saves had to be retried row by row (logged: it should not happen). */
  onBatchFallback?: (err: unknown, rows: number) => void;
}

/** What every model's adapter of one provider shares: its dependencies, its data keys and its per-request prefetches. */
export interface OidcStore extends OidcStoreDeps {
  keys: OidcPayloadKeys;
  /** On PostgreSQL, the upserts of each event-loop turn in one statement (upsert-batch.ts). */
  upserts: UpsertBatch | null;
  /**
   * The Grant row read together with a token or code of it (same statement, same snapshot),
   * per provider request (keyed by the request's Koa context, Provider.ctx), for the Grant.find
   * that follows in the same request (userinfo, code exchange): one round trip fewer. Used once,
   * for that grant id only, and dropped with the request. Only sealed rows: never decrypted
   * unless that find asks for it.
   */
  prefetched: WeakMap<object, Map<string, Row>>;
  /**
   * The saves under way, from their first step (a save may first wait for the data key, then
   * for its turn's statement). A delete or a revocation waits for those made before it, so
   * that none lands after it and brings back what it removed; later saves are not its concern
   * (waiting for all would never end under steady load).
   */
  saving: Set<Promise<unknown>>;
}

export function createOidcStore(deps: OidcStoreDeps): OidcStore {
  const statements = deps.db.oidcSystemStatements;
  return { ...deps, keys: new OidcPayloadKeys(deps.db, deps.ring, deps.clock), prefetched: new WeakMap(), upserts: statements ? new UpsertBatch(statements, deps.onBatchFallback) : null, saving: new Set() };
}

/** Runs a function in one context's transaction: `(f) => system(db, reason, f)`, `(f) => citizen(db, id, f)`. */
export type InContext = <R>(fn: (tx: Tx) => Promise<R>) => Promise<R>;

/**
 * A transaction in one round trip on PostgreSQL: BEGIN, the context's settings, the
 * statements `fn` issues before its first await, and COMMIT leave in one write (pipeline
 * mode); `fn` reads its results once they arrive, the transaction committing behind them. For
 * reads and single writes on hot paths (the token and userinfo endpoints): a socket write
 * costs as much here as the driver's whole work for a statement, and each round trip waits
 * for the database backend to be scheduled. A statement issued after that first await would
 * run after the COMMIT: it is refused (an error, never a query outside the context).
 * On PGlite (no round trips) an ordinary transaction.
 */
export async function oneTrip<T>(db: Database, inContext: InContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (db.kind !== 'postgres') return inContext(fn);
  let outcome: Promise<{ ok: T } | { err: unknown }> | undefined;
  await inContext(async (tx) => {
    let open = true;
    const refused = (): Error => new Error('oneTrip: a statement after the first await');
    const guarded: Tx = {
      context: tx.context,
      beforeCommit: (task) => tx.beforeCommit(task),
      query: (sql, params) => (open ? tx.query(sql, params) : Promise.reject(refused())),
      send: (sql, params) => {
        if (!open) throw refused();
        tx.send(sql, params);
      },
    };
    // Settled at once (never an unhandled rejection); not awaited: the COMMIT follows on the wire.
    outcome = fn(guarded).then(
      (ok) => ({ ok }),
      (err: unknown) => ({ err }),
    );
    open = false;
  });
  const settled = await (outcome as NonNullable<typeof outcome>);
  if ('err' in settled) throw settled.err;
  return settled.ok;
}

/** oneTrip in a system context. */
export function inOneTrip<T>(db: Database, reason: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return oneTrip(db, (f) => system(db, reason, f), fn);
}

/** Models whose rows belong to a grant (revoked with it), as in oidc-provider's memory adapter. */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);
const MODEL = /^[A-Z][A-Za-z]{1,63}$/;

/** Keyed, so that a dump cannot be searched for a token seen elsewhere. One purpose per index. */
const mac = (ring: KeyRing, purpose: 'id' | 'uid' | 'user-code', value: string): Buffer => hmac(ring.macKey, `oidc-${purpose}\0${value}`);

type Row = { key_id: string; payload: Uint8Array; consumed_at: Date | null; id_mac: Uint8Array };
type WithGrant = Row & { g_id_mac: Uint8Array | null; g_key_id: string | null; g_payload: Uint8Array | null; g_consumed_at: Date | null };

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

  /**
   * One statement in the system context. On PostgreSQL, through db.oidcSystemStatements (the
   * token and userinfo hot path, src/db/database.ts): alone in autocommit on a connection that
   * is sesame_system from its start, so one statement on the wire instead of five (BEGIN, SET
   * LOCAL ROLE, set_config, it, COMMIT), and the same role, hence the same row-level security
   * policies and grants, as system(). Every operation below is a single statement, so atomic
   * on its own; the data keys' reads (rare) keep system() transactions. On PGlite, oneTrip.
   */
  #statement<R extends Record<string, unknown>>(sql: string, params: unknown[]): Promise<{ rows: R[]; rowCount: number }> {
    const { db } = this.#store;
    return db.oidcSystemStatements ? db.oidcSystemStatements.query<R>(sql, params) : inOneTrip(db, this.#reason, (tx) => tx.query<R>(sql, params));
  }

  #aad(idMac: Uint8Array): string {
    return `oidc:${this.name}:${Buffer.from(idMac).toString('base64url')}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const { saving } = this.#store;
    const saved = this.#save(id, payload, expiresIn);
    saving.add(saved);
    try {
      await saved;
    } finally {
      saving.delete(saved);
    }
  }

  /** Waits for the saves made so far (see OidcStore.saving), whatever their outcome. */
  async #savesSoFar(): Promise<void> {
    await Promise.allSettled([...this.#store.saving]);
  }

  async #save(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const { ring, clock, keys } = this.#store;
    const now = clock.now();
    const idMac = mac(ring, 'id', id);
    const grantId = GRANTABLE.has(this.name) && typeof payload.grantId === 'string' ? mac(ring, 'id', payload.grantId) : null;
    const uid = this.name === 'Session' && typeof payload.uid === 'string' ? mac(ring, 'uid', payload.uid) : null;
    const userCode = typeof payload.userCode === 'string' ? mac(ring, 'user-code', payload.userCode) : null;
    const accountId = typeof payload.accountId === 'string' && UUID.test(payload.accountId) ? payload.accountId : null;
    const expiresAt = typeof expiresIn === 'number' ? new Date(now.getTime() + expiresIn * 1000) : null;
    const consumedAt = typeof payload.consumed === 'number' ? new Date(payload.consumed * 1000) : null;
    this.#forget(idMac);
    const key = await keys.current();
    const sealed = seal(key.key, this.#aad(idMac), Buffer.from(JSON.stringify(payload), 'utf8'));
    const row: UpsertRow = [this.name, idMac, key.id, sealed, grantId, uid, userCode, accountId, expiresAt, consumedAt];
    if (this.#store.upserts) await this.#store.upserts.add(row);
    else await this.#statement(UPSERT_ONE, [...row]);
  }

  /**
   * Saves the row unless a live one has its id, in one statement, and says whether it did:
   * ReplayDetection's check (replay-detection.ts). Two requests claiming one id at once: the
   * second INSERT waits for the first's commit, then finds the row live and changes nothing.
   * An expired row not yet cleared by housekeeping is taken over.
   */
  async claim(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
    const { ring, clock, keys } = this.#store;
    const now = clock.now();
    const idMac = mac(ring, 'id', id);
    const key = await keys.current();
    const sealed = seal(key.key, this.#aad(idMac), Buffer.from(JSON.stringify(payload), 'utf8'));
    const { rowCount } = await this.#statement(
      `INSERT INTO oidc_payloads (model, id_mac, key_id, payload, expires_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (model, id_mac) DO UPDATE SET key_id = EXCLUDED.key_id, payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at, consumed_at = NULL
        WHERE oidc_payloads.expires_at IS NOT NULL AND oidc_payloads.expires_at <= $6`,
      [this.name, idMac, key.id, sealed, new Date(now.getTime() + expiresIn * 1000), now],
    );
    return rowCount === 1;
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
    const now = this.#store.clock.now();
    const ctx = Provider.ctx;
    if (this.name === 'Grant' && column === 'id_mac' && ctx) {
      const memo = this.#store.prefetched.get(ctx);
      const key = value.toString('base64url');
      const row = memo?.get(key);
      if (row) {
        memo?.delete(key); // once: a second find (after a save) reads the table again
        return this.#open(row);
      }
    }
    if (GRANTABLE.has(this.name) && column === 'id_mac' && ctx) {
      // Inside a provider request, a token or code comes with its grant (not expired), for the Grant.find that follows.
      const { rows } = await this.#statement<WithGrant>(
        `SELECT p.id_mac, p.key_id, p.payload, p.consumed_at, g.id_mac AS g_id_mac, g.key_id AS g_key_id, g.payload AS g_payload, g.consumed_at AS g_consumed_at
           FROM oidc_payloads p
           LEFT JOIN oidc_payloads g ON g.model = 'Grant' AND g.id_mac = p.grant_mac AND (g.expires_at IS NULL OR g.expires_at > $3)
          WHERE p.model = $1 AND p.id_mac = $2 AND (p.expires_at IS NULL OR p.expires_at > $3) LIMIT 1`,
        [this.name, value, now],
      );
      const row = rows[0];
      if (!row) return undefined;
      if (row.g_id_mac && row.g_key_id && row.g_payload) {
        let memo = this.#store.prefetched.get(ctx);
        if (!memo) this.#store.prefetched.set(ctx, (memo = new Map()));
        memo.set(Buffer.from(row.g_id_mac).toString('base64url'), { id_mac: row.g_id_mac, key_id: row.g_key_id, payload: row.g_payload, consumed_at: row.g_consumed_at });
      }
      return this.#open(row);
    }
    const { rows } = await this.#statement<Row>(
      `SELECT id_mac, key_id, payload, consumed_at FROM oidc_payloads
        WHERE model = $1 AND ${column} = $2 AND (expires_at IS NULL OR expires_at > $3) LIMIT 1`,
      [this.name, value, now],
    );
    const row = rows[0];
    return row ? this.#open(row) : undefined;
  }

  /** A grant changed or gone in this request: what was prefetched of it is not served. */
  #forget(idMac: Buffer): void {
    const ctx = Provider.ctx;
    if (this.name === 'Grant' && ctx) this.#store.prefetched.get(ctx)?.delete(idMac.toString('base64url'));
  }

  async #open(row: Row): Promise<AdapterPayload | undefined> {
    let payload: AdapterPayload;
    try {
      // The data key is nearly always known already; otherwise read (and re-wrapped) in a transaction of its own.
      const { keys } = this.#store;
      const key = keys.known(row.key_id) ?? (await this.#tx((tx) => keys.byId(tx, row.key_id)));
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
    // The guarded UPDATE alone (one statement, committed when it returns). Only when it did not
    // win is the row looked at again, in a transaction that sees the winner's commit. No wait
    // for saves under way (OidcStore.saving): one landing later keeps the mark (its COALESCE).
    const won = await this.#statement(
      `UPDATE oidc_payloads SET consumed_at = $3 WHERE model = $1 AND id_mac = $2 AND consumed_at IS NULL AND (expires_at IS NULL OR expires_at > $3)`,
      [this.name, idMac, clock.now()],
    );
    if (won.rowCount === 1) return;
    const outcome = await this.#tx(async (tx) => {
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
    const what = this.name === 'PushedAuthorizationRequest' ? errors.InvalidRequest : errors.InvalidGrant;
    throw new what(outcome === 'replayed' ? 'already consumed' : 'not found or expired');
  }

  async destroy(id: string): Promise<void> {
    const idMac = mac(this.#store.ring, 'id', id);
    this.#forget(idMac);
    // A save of this row still under way would otherwise land after the delete.
    await this.#savesSoFar();
    await this.#statement(`DELETE FROM oidc_payloads WHERE model = $1 AND id_mac = $2`, [this.name, idMac]);
  }

  /** Every model's rows of the grant (the provider destroys the Grant itself separately). */
  async revokeByGrantId(grantId: string): Promise<void> {
    const grantMac = mac(this.#store.ring, 'id', grantId);
    await this.#savesSoFar();
    await this.#statement(`DELETE FROM oidc_payloads WHERE grant_mac = $1`, [grantMac]);
  }
}

/** `new Provider(issuer, { adapter: oidcAdapter(store) })`: one adapter per model name. */
export function oidcAdapter(store: OidcStore): AdapterFactory {
  return (name: string) => new PgAdapter(name, store);
}
