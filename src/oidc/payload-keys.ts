import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { system, type Tx } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import { newDataKey, open, seal } from '../crypto/envelope.ts';
import type { KeyRing } from '../crypto/keyring.ts';

/**
 * The data keys that encrypt oidc-provider payloads. They are not per account (an interaction
 * or a client-credentials token belongs to none), so each is wrapped by the key file's
 * current key-encryption key, like account data keys: a dump without the key file reveals
 * nothing, and `sesame keys rotate` moves them (a key under an older KEK is re-wrapped the
 * first time it is used after a rotation, and by housekeeping).
 *
 * One instance per provider (never module-level): it caches unwrapped keys by their id,
 * which names no one.
 */
export class OidcPayloadKeys {
  readonly #ring: KeyRing;
  readonly #clock: Clock;
  readonly #keys = new Map<string, KeyObject>();
  #current: { id: string; kekId: string; until: number } | null = null;

  readonly #db: Database;
  #loading: Promise<{ id: string; key: KeyObject }> | null = null;

  constructor(db: Database, ring: KeyRing, clock: Clock) {
    this.#db = db;
    this.#ring = ring;
    this.#clock = clock;
  }

  /**
   * The key new payloads are sealed with: one under the current KEK, made when there is none.
   * Found (or made and committed) in its own short transaction, before the write that uses
   * it, and once for all the writes waiting at that moment: twenty first logins at once make
   * one key, not twenty, and no write refers to a key another transaction has not committed.
   */
  async current(): Promise<{ id: string; key: KeyObject }> {
    const kekId = this.#ring.currentKekId;
    const cached = this.#current;
    // Looked up again hourly: housekeeping may drop an unused older key (see purgeExpiredOidc).
    if (cached && cached.kekId === kekId && cached.until > this.#clock.now().getTime()) {
      const key = this.#keys.get(cached.id);
      if (key) return { id: cached.id, key };
    }
    this.#loading ??= system(this.#db, 'oidc:data-key', (tx) => this.#load(tx, kekId)).finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #load(tx: Tx, kekId: string): Promise<{ id: string; key: KeyObject }> {
    const { rows } = await tx.query<{ id: string; wrapped_key: Uint8Array }>(
      `SELECT id, wrapped_key FROM oidc_data_keys WHERE kek_id = $1 ORDER BY created_at DESC, id LIMIT 1`,
      [kekId],
    );
    let id: string;
    let key: KeyObject;
    const row = rows[0];
    if (row) {
      id = row.id;
      key = createSecretKey(open(this.#ring.kek(kekId), aad(id), Buffer.from(row.wrapped_key)));
    } else {
      // Two processes may both create one: harmless, each row names the key that sealed it.
      id = randomUUID();
      const dataKey = newDataKey();
      await tx.query(`INSERT INTO oidc_data_keys (id, kek_id, wrapped_key, created_at) VALUES ($1, $2, $3, $4)`, [
        id,
        kekId,
        seal(this.#ring.kek(kekId), aad(id), dataKey),
        this.#clock.now(),
      ]);
      key = createSecretKey(dataKey);
    }
    this.#keys.set(id, key);
    this.#current = { id, kekId, until: this.#clock.now().getTime() + 3600_000 };
    return { id, key };
  }

  /** The key a stored payload names if it is already unwrapped in this process (no query). */
  known(id: string): KeyObject | undefined {
    return this.#keys.get(id);
  }

  /** The key a stored payload names; re-wrapped under the current KEK if an older one wraps it. */
  async byId(tx: Tx, id: string): Promise<KeyObject> {
    const cached = this.#keys.get(id);
    if (cached) return cached;
    const { rows } = await tx.query<{ kek_id: string; wrapped_key: Uint8Array }>(`SELECT kek_id, wrapped_key FROM oidc_data_keys WHERE id = $1`, [id]);
    const row = rows[0];
    if (!row) throw new Error('oidc data key missing');
    const dataKey = open(this.#ring.kek(row.kek_id), aad(id), Buffer.from(row.wrapped_key));
    const current = this.#ring.currentKekId;
    if (row.kek_id !== current) {
      tx.send(`UPDATE oidc_data_keys SET kek_id = $2, wrapped_key = $3 WHERE id = $1`, [id, current, seal(this.#ring.kek(current), aad(id), dataKey)]);
    }
    const key = createSecretKey(dataKey);
    this.#keys.set(id, key);
    return key;
  }
}

const aad = (keyId: string): string => `oidc-dek:${keyId}`;

/** Re-wraps every oidc data key still under an older KEK (housekeeping, after a rotation). */
export async function rewrapOidcDataKeys(tx: Tx, ring: KeyRing): Promise<number> {
  const current = ring.currentKekId;
  const { rows } = await tx.query<{ id: string; kek_id: string; wrapped_key: Uint8Array }>(
    `SELECT id, kek_id, wrapped_key FROM oidc_data_keys WHERE kek_id <> $1 FOR UPDATE`,
    [current],
  );
  let done = 0;
  for (const r of rows) {
    if (!ring.kekIds.includes(r.kek_id)) continue; // already unreadable: its rows expire, housekeeping drops it
    const dataKey = open(ring.kek(r.kek_id), aad(r.id), Buffer.from(r.wrapped_key));
    await tx.query(`UPDATE oidc_data_keys SET kek_id = $2, wrapped_key = $3 WHERE id = $1`, [r.id, current, seal(ring.kek(current), aad(r.id), dataKey)]);
    done++;
  }
  return done;
}
