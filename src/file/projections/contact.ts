import { isDeepStrictEqual } from 'node:util';
import type { Tx } from '../../db/contexts.ts';
import type { FieldCipher } from '../../crypto/envelope.ts';
import { accountCipher } from '../../accounts/account-keys.ts';
import { emailIndex } from '../../accounts/accounts.ts';
import type { Part } from '../catalogue.ts';
import type { AppliedEffect, FileDeps, FileEvent } from '../events.ts';

/**
 * Contact projection: the encrypted contact columns of `accounts` (email with its blind
 * index, phone, postal address), which the rest of the application already reads. A part
 * that no event has touched keeps the value it was created with (from the agency or the
 * account's creation), so a rebuild only rewrites parts that have events.
 */

export type ContactPart = 'contact.email-changed' | 'contact.phone-changed' | 'contact.address-changed';

// Column names are also the AAD field names accounts.ts uses: readAccount decrypts them.
const COLUMN = {
  'contact.email-changed': 'email',
  'contact.phone-changed': 'phone',
  'contact.address-changed': 'postal_address',
} as const satisfies Record<ContactPart, string>;

const PARTS = Object.keys(COLUMN) as ContactPart[];

function contactPart(part: Part): ContactPart {
  if (!(part in COLUMN)) throw new TypeError(`${part} is not a contact part`);
  return part as ContactPart;
}

/** The current value of one contact part, decrypted; null when empty or the account is not visible. */
export async function current(tx: Tx, _deps: FileDeps, cipher: FieldCipher, accountId: string, part: Part, _key?: string | null): Promise<string | null> {
  const column = COLUMN[contactPart(part)];
  const { rows } = await tx.query<Record<string, Uint8Array | null>>(`SELECT ${column} FROM accounts WHERE id = $1`, [accountId]);
  const blob = rows[0]?.[column];
  return blob ? cipher.decrypt(column, Buffer.from(blob)) : null;
}

async function write(tx: Tx, deps: FileDeps, cipher: FieldCipher, accountId: string, part: ContactPart, value: string | null, updatedAt: Date | null): Promise<void> {
  const column = COLUMN[part];
  const sealed = value === null ? null : cipher.encrypt(column, value);
  const sets = [`${column} = $2`];
  const params: unknown[] = [accountId, sealed];
  if (part === 'contact.email-changed') {
    params.push(value === null ? null : emailIndex(deps.ring, value));
    sets.push(`email_index = $${params.length}`);
  }
  if (updatedAt) {
    params.push(updatedAt);
    sets.push(`updated_at = $${params.length}`);
  }
  const { rowCount } = await tx.query(`UPDATE accounts SET ${sets.join(', ')} WHERE id = $1`, params);
  if (rowCount !== 1) throw new Error('contact projection: the account row is not writable in this context');
}

/** Applies one event's effect (called by appendEvent, in its transaction). */
export async function apply(tx: Tx, deps: FileDeps, event: AppliedEffect): Promise<void> {
  const part = contactPart(event.effect.part);
  const cipher = await cipherOf(tx, deps, event.accountId);
  await write(tx, deps, cipher, event.accountId, part, event.effect.value as string | null, event.occurredAt);
}

/**
 * Recomputes every contact part that has events from the events alone (a cancellation's
 * effect is its own compensating value, so folding in order undoes the cancelled change).
 * Returns how many parts differed from the projection and were corrected.
 */
export async function rebuild(tx: Tx, deps: FileDeps, accountId: string, events: readonly FileEvent[]): Promise<number> {
  if (!events.some((e) => e.effect.part in COLUMN)) return 0;
  const cipher = await cipherOf(tx, deps, accountId);
  const last = new Map<ContactPart, string | null>();
  for (const e of events) if (e.effect.part in COLUMN) last.set(e.effect.part as ContactPart, e.effect.value as string | null);
  let corrected = 0;
  for (const part of PARTS) {
    if (!last.has(part)) continue;
    const value = last.get(part) ?? null;
    // A column that no longer decrypts (tampered) counts as different and is rewritten.
    const now = await current(tx, deps, cipher, accountId, part).catch((): undefined => undefined);
    if (isDeepStrictEqual(now, value) && (part !== 'contact.email-changed' || (await emailIndexHolds(tx, deps, accountId, value)))) continue;
    corrected++;
    await write(tx, deps, cipher, accountId, part, value, null);
  }
  return corrected;
}

/** The blind index is derived from the email: a rebuild checks it too. */
async function emailIndexHolds(tx: Tx, deps: FileDeps, accountId: string, email: string | null): Promise<boolean> {
  const { rows } = await tx.query<{ email_index: Uint8Array | null }>(`SELECT email_index FROM accounts WHERE id = $1`, [accountId]);
  const stored = rows[0]?.email_index ?? null;
  if (email === null || stored === null) return email === null && stored === null;
  return emailIndex(deps.ring, email).equals(Buffer.from(stored));
}

async function cipherOf(tx: Tx, deps: FileDeps, accountId: string): Promise<FieldCipher> {
  const cipher = await accountCipher(tx, deps.ring, accountId);
  if (!cipher) throw new Error('contact projection: the account has no data key');
  return cipher;
}
