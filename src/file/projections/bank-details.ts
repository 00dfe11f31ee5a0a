import { isDeepStrictEqual } from 'node:util';
import type { Tx } from '../../db/contexts.ts';
import type { FieldCipher } from '../../crypto/envelope.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import { accountCipher } from '../../accounts/account-keys.ts';
import type { BankDetails, ChangeType } from '../catalogue.ts';
import { readEvents, type AppliedEffect, type FileDeps } from '../events.ts';

/**
 * Bank-details projection (file_bank_details): the IBAN and holder in force, encrypted;
 * `version` is the seq of the last event applied. Removed details keep their row with
 * NULL values, so the version still says which event removed them.
 */

const PART = 'bank-details.changed' satisfies ChangeType;

interface Row extends Record<string, unknown> {
  iban: Uint8Array | null;
  holder: Uint8Array | null;
  version: string;
  updated_at: Date;
}

export interface BankDetailsView {
  iban: string;
  holder: string;
  /** For display: country code and last four characters only. */
  masked: string;
  version: number;
  updatedAt: Date;
}

/** `FR76 3000 6000 0112 3456 7890 189` → `FR•• •••• •••• •••• •••• •••• 189`-style: country and last 4 kept. */
export function maskIban(iban: string): string {
  const hidden = iban.slice(0, 2) + '•'.repeat(Math.max(0, iban.length - 6)) + iban.slice(-4);
  return hidden.replace(/(.{4})(?=.)/g, '$1 ');
}

async function row(tx: Tx, accountId: string): Promise<Row | null> {
  const { rows } = await tx.query<Row>(`SELECT iban, holder, version::text AS version, updated_at FROM file_bank_details WHERE account_id = $1`, [accountId]);
  return rows[0] ?? null;
}

function decrypt(cipher: FieldCipher, r: Row | null): BankDetails | null {
  if (!r?.iban || !r.holder) return null;
  return { iban: cipher.decrypt('bank_iban', Buffer.from(r.iban)), holder: cipher.decrypt('bank_holder', Buffer.from(r.holder)) };
}

export async function current(tx: Tx, _deps: FileDeps, cipher: FieldCipher, accountId: string, part: ChangeType): Promise<BankDetails | null> {
  if (part !== PART) throw new TypeError(`${part} is not a bank-details part`);
  return decrypt(cipher, await row(tx, accountId));
}

/** The bank details in force, decrypted, with a masked IBAN; null when there are none (or the key was shredded). */
export async function readBankDetails(tx: Tx, ring: KeyRing, accountId: string): Promise<BankDetailsView | null> {
  const [r, cipher] = await Promise.all([row(tx, accountId), accountCipher(tx, ring, accountId)]);
  const details = cipher ? decrypt(cipher, r) : null;
  if (!r || !details) return null;
  return { ...details, masked: maskIban(details.iban), version: Number(r.version), updatedAt: r.updated_at };
}

async function write(tx: Tx, cipher: FieldCipher, accountId: string, value: BankDetails | null, version: number, updatedAt: Date): Promise<void> {
  // The version guard keeps an older event from overwriting a newer one.
  await tx.query(
    `INSERT INTO file_bank_details (account_id, iban, holder, version, updated_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (account_id) DO UPDATE SET iban = EXCLUDED.iban, holder = EXCLUDED.holder, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
       WHERE file_bank_details.version < EXCLUDED.version`,
    [accountId, value ? cipher.encrypt('bank_iban', value.iban) : null, value ? cipher.encrypt('bank_holder', value.holder) : null, version, updatedAt],
  );
}

async function cipherOf(tx: Tx, deps: FileDeps, accountId: string): Promise<FieldCipher> {
  const cipher = await accountCipher(tx, deps.ring, accountId);
  if (!cipher) throw new Error('bank-details projection: the account has no data key');
  return cipher;
}

export async function apply(tx: Tx, deps: FileDeps, event: AppliedEffect): Promise<void> {
  if (event.effect.part !== PART) throw new TypeError(`${event.effect.part} is not a bank-details part`);
  await write(tx, await cipherOf(tx, deps, event.accountId), event.accountId, event.effect.value, event.seq, event.occurredAt);
}

/**
 * Recomputes the projection from the events: the last event that set the bank details
 * (a change, or the cancellation that set them back) gives the value, its seq and its time.
 * Returns 1 when the projection differed and was corrected, 0 otherwise.
 */
export async function rebuild(tx: Tx, deps: FileDeps, accountId: string): Promise<number> {
  const events = (await readEvents(tx, deps.ring, accountId)).filter((e) => e.effect.part === PART);
  const existing = await row(tx, accountId);
  const last = events.at(-1);
  if (!last) {
    if (!existing) return 0;
    await tx.query(`DELETE FROM file_bank_details WHERE account_id = $1`, [accountId]);
    return 1;
  }
  const cipher = await cipherOf(tx, deps, accountId);
  const value = last.effect.value as BankDetails | null;
  const same =
    existing !== null &&
    Number(existing.version) === last.seq &&
    existing.updated_at.getTime() === last.occurredAt.getTime() &&
    isDeepStrictEqual(decryptOrNull(cipher, existing), value);
  if (same) return 0;
  await tx.query(`DELETE FROM file_bank_details WHERE account_id = $1`, [accountId]);
  await write(tx, cipher, accountId, value, last.seq, last.occurredAt);
  return 1;
}

/** A projection row that no longer decrypts (tampered) is simply rebuilt. */
function decryptOrNull(cipher: FieldCipher, r: Row): BankDetails | null | undefined {
  try {
    return decrypt(cipher, r);
  } catch {
    return undefined;
  }
}
