import type { Tx } from '../db/contexts.ts';
import { FieldCipher, newDataKey, unwrapDataKey, wrapDataKey } from '../crypto/envelope.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import type { Clock } from '../clock.ts';

/** Per-account data keys: created with the account, unwrapped to read, deleted to shred. */
export function generateAccountKey(accountId: string): { cipher: FieldCipher; dataKey: Buffer } {
  const dataKey = newDataKey();
  return { cipher: new FieldCipher(accountId, dataKey), dataKey };
}

/** Stores the data key wrapped by the current key-encryption key; the clear key never reaches the database. */
export async function storeAccountKey(tx: Tx, ring: KeyRing, clock: Clock, accountId: string, dataKey: Buffer): Promise<void> {
  await tx.query(`INSERT INTO account_keys (account_id, kek_id, wrapped_key, created_at) VALUES ($1, $2, $3, $4)`, [
    accountId,
    ring.currentKekId,
    wrapDataKey(ring.kek(ring.currentKekId), accountId, dataKey),
    clock.now(),
  ]);
}

// Within one transaction an account's key only changes by being shredded (below), so its
// cipher is unwrapped once per transaction; never longer, so a shred elsewhere is seen at once.
const perTransaction = new WeakMap<Tx, Map<string, FieldCipher>>();

/** The account's cipher, or null when its key was shredded (the data is gone for good). */
export async function accountCipher(tx: Tx, ring: KeyRing, accountId: string): Promise<FieldCipher | null> {
  const cached = perTransaction.get(tx)?.get(accountId);
  if (cached) return cached;
  const cipher = await loadCipher(tx, ring, accountId);
  if (cipher) rememberCipher(tx, accountId, cipher);
  return cipher;
}

/** A key generated in this transaction (an import) is known without reading it back. */
export function rememberCipher(tx: Tx, accountId: string, cipher: FieldCipher): void {
  let ciphers = perTransaction.get(tx);
  if (!ciphers) perTransaction.set(tx, (ciphers = new Map()));
  ciphers.set(accountId, cipher);
}

async function loadCipher(tx: Tx, ring: KeyRing, accountId: string): Promise<FieldCipher | null> {
  const { rows } = await tx.query<{ kek_id: string; wrapped_key: Uint8Array }>(
    `SELECT kek_id, wrapped_key FROM account_keys WHERE account_id = $1`,
    [accountId],
  );
  const row = rows[0];
  if (!row) return null;
  return new FieldCipher(accountId, unwrapDataKey(ring.kek(row.kek_id), accountId, Buffer.from(row.wrapped_key)));
}

/**
 * The account's cipher from its key row read with something else (a join: one statement
 * fewer), or null when there is none (shredded). Remembered for the transaction like accountCipher's.
 */
export function cipherFromKeyRow(tx: Tx, ring: KeyRing, accountId: string, key: { kek_id: string | null; wrapped_key: Uint8Array | null }): FieldCipher | null {
  if (key.kek_id === null || key.wrapped_key === null) return null;
  const cached = perTransaction.get(tx)?.get(accountId);
  if (cached) return cached;
  const cipher = new FieldCipher(accountId, unwrapDataKey(ring.kek(key.kek_id), accountId, Buffer.from(key.wrapped_key)));
  rememberCipher(tx, accountId, cipher);
  return cipher;
}

/** Crypto-shredding: without its data key nothing of the account can be decrypted again. */
export async function shredAccountKey(tx: Tx, accountId: string): Promise<boolean> {
  perTransaction.get(tx)?.delete(accountId);
  const { rowCount } = await tx.query(`DELETE FROM account_keys WHERE account_id = $1`, [accountId]);
  return rowCount === 1;
}
