import { isDeepStrictEqual } from 'node:util';
import type { Tx } from '../../db/contexts.ts';
import type { FieldCipher } from '../../crypto/envelope.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import { accountCipher } from '../../accounts/account-keys.ts';
import type { BankDetails, Part } from '../catalogue.ts';
import { appliedOf, type AppliedEffect, type FileDeps, type FileEvent } from '../events.ts';

/**
 * Bank-details projection (file_bank_details). `iban`/`holder` are the details last declared;
 * while a change is held (`effective_at` in the future) payments keep going to `previous_*`,
 * the details that were in force when the change was made. `version` is the seq of the last
 * event applied; removed details keep their row with NULL values.
 */

const PART = 'bank-details.changed' satisfies Part;

/** What the projection holds, decrypted. */
export interface BankState {
  current: BankDetails | null;
  effectiveAt: Date | null;
  previous: BankDetails | null;
  changeEventId: string | null;
  version: number;
  updatedAt: Date;
}

export interface MaskedBankDetails extends BankDetails {
  masked: string;
}

export interface BankDetailsView extends MaskedBankDetails {
  accountId: string;
  version: number;
  updatedAt: Date;
  /** When the details shown take effect for payments; null: already in force. */
  effectiveAt: Date | null;
  /** The change is still held: payments go to `previous` until effectiveAt. */
  pending: boolean;
  previous: MaskedBankDetails | null;
  /** The event that declared these details (what a cancellation names). */
  changeEventId: string | null;
}

/** `FR7630006000011234567890189` → `FR76 **** **** **** **** ***0 189`: the country, check digits and last 4 kept. */
export function maskIban(iban: string): string {
  const hidden = iban.slice(0, 4) + '*'.repeat(Math.max(0, iban.length - 8)) + iban.slice(-4);
  return hidden.replace(/(.{4})(?=.)/g, '$1 ');
}

/** The details payments go to at `at`. */
export function inForceAt(state: Pick<BankState, 'current' | 'effectiveAt' | 'previous'>, at: Date): BankDetails | null {
  return state.effectiveAt !== null && at.getTime() < state.effectiveAt.getTime() ? state.previous : state.current;
}

/**
 * One event folded into the state. A held change keeps what was in force at that moment as
 * `previous`; a change that takes effect at once (an agency's, a cancellation) ends any hold.
 */
export function fold(state: BankState | null, event: AppliedEffect): BankState {
  if (event.effect.part !== PART) throw new TypeError(`${event.effect.part} is not a bank-details part`);
  const value = event.effect.value;
  const held = event.effectiveAt !== null && event.effectiveAt.getTime() > event.occurredAt.getTime();
  return {
    current: value,
    effectiveAt: held ? event.effectiveAt : null,
    previous: held && state ? inForceAt(state, event.occurredAt) : null,
    changeEventId: value === null ? null : event.eventId,
    version: event.seq,
    updatedAt: event.occurredAt,
  };
}

interface Row extends Record<string, unknown> {
  iban: Uint8Array | null;
  holder: Uint8Array | null;
  previous_iban: Uint8Array | null;
  previous_holder: Uint8Array | null;
  effective_at: Date | null;
  change_event_id: string | null;
  version: string;
  updated_at: Date;
}

async function row(tx: Tx, accountId: string): Promise<Row | null> {
  const { rows } = await tx.query<Row>(
    `SELECT iban, holder, previous_iban, previous_holder, effective_at, change_event_id, version::text AS version, updated_at
       FROM file_bank_details WHERE account_id = $1`,
    [accountId],
  );
  return rows[0] ?? null;
}

function details(cipher: FieldCipher, iban: Uint8Array | null, holder: Uint8Array | null, prefix: '' | 'previous_'): BankDetails | null {
  if (!iban || !holder) return null;
  return { iban: cipher.decrypt(`bank_${prefix}iban`, Buffer.from(iban)), holder: cipher.decrypt(`bank_${prefix}holder`, Buffer.from(holder)) };
}

function decode(cipher: FieldCipher, r: Row): BankState {
  return {
    current: details(cipher, r.iban, r.holder, ''),
    previous: details(cipher, r.previous_iban, r.previous_holder, 'previous_'),
    effectiveAt: r.effective_at,
    changeEventId: r.change_event_id,
    version: Number(r.version),
    updatedAt: r.updated_at,
  };
}

export async function current(tx: Tx, _deps: FileDeps, cipher: FieldCipher, accountId: string, part: Part): Promise<BankDetails | null> {
  if (part !== PART) throw new TypeError(`${part} is not a bank-details part`);
  const r = await row(tx, accountId);
  return r ? decode(cipher, r).current : null;
}

/** The whole state, decrypted; null when there are none (or the key was shredded). */
export async function readBankState(tx: Tx, ring: KeyRing, accountId: string): Promise<BankState | null> {
  const [r, cipher] = await Promise.all([row(tx, accountId), accountCipher(tx, ring, accountId)]);
  return r && cipher ? decode(cipher, r) : null;
}

const masked = (d: BankDetails | null): MaskedBankDetails | null => (d ? { ...d, masked: maskIban(d.iban) } : null);

/** The bank details last declared, with the hold (if any) as it stands at `now`; null when there are none. */
export async function readBankDetails(tx: Tx, ring: KeyRing, accountId: string, now: Date): Promise<BankDetailsView | null> {
  const state = await readBankState(tx, ring, accountId);
  if (!state?.current) return null;
  const pending = state.effectiveAt !== null && now.getTime() < state.effectiveAt.getTime();
  return {
    accountId,
    ...state.current,
    masked: maskIban(state.current.iban),
    version: state.version,
    updatedAt: state.updatedAt,
    effectiveAt: state.effectiveAt,
    pending,
    previous: pending ? masked(state.previous) : null,
    changeEventId: state.changeEventId,
  };
}

async function write(tx: Tx, cipher: FieldCipher, accountId: string, s: BankState): Promise<void> {
  const seal = (field: string, value: string | undefined): Buffer | null => (value === undefined ? null : cipher.encrypt(field, value));
  // The version guard keeps an older event from overwriting a newer one.
  await tx.query(
    `INSERT INTO file_bank_details (account_id, iban, holder, previous_iban, previous_holder, effective_at, change_event_id, version, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (account_id) DO UPDATE SET iban = EXCLUDED.iban, holder = EXCLUDED.holder, previous_iban = EXCLUDED.previous_iban,
       previous_holder = EXCLUDED.previous_holder, effective_at = EXCLUDED.effective_at, change_event_id = EXCLUDED.change_event_id,
       version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
       WHERE file_bank_details.version < EXCLUDED.version`,
    [
      accountId,
      seal('bank_iban', s.current?.iban),
      seal('bank_holder', s.current?.holder),
      seal('bank_previous_iban', s.previous?.iban),
      seal('bank_previous_holder', s.previous?.holder),
      s.effectiveAt,
      s.changeEventId,
      s.version,
      s.updatedAt,
    ],
  );
}

async function cipherOf(tx: Tx, deps: FileDeps, accountId: string): Promise<FieldCipher> {
  const cipher = await accountCipher(tx, deps.ring, accountId);
  if (!cipher) throw new Error('bank-details projection: the account has no data key');
  return cipher;
}

export async function apply(tx: Tx, deps: FileDeps, event: AppliedEffect): Promise<void> {
  const cipher = await cipherOf(tx, deps, event.accountId);
  // An initial event (import) has nothing before it: no read.
  const before = event.seq === 1 ? null : await row(tx, event.accountId);
  await write(tx, cipher, event.accountId, fold(before ? decode(cipher, before) : null, event));
}

/**
 * Recomputes the projection by folding the bank-details events in order. Returns 1 when the
 * projection differed and was corrected, 0 otherwise.
 */
export async function rebuild(tx: Tx, deps: FileDeps, accountId: string, events: readonly FileEvent[]): Promise<number> {
  let state: BankState | null = null;
  for (const e of events) if (e.effect.part === PART) state = fold(state, appliedOf(e));
  const existing = await row(tx, accountId);
  if (!state) {
    if (!existing) return 0;
    await tx.query(`DELETE FROM file_bank_details WHERE account_id = $1`, [accountId]);
    return 1;
  }
  const cipher = await cipherOf(tx, deps, accountId);
  if (existing && isDeepStrictEqual(decodeOrNull(cipher, existing), state)) return 0;
  await tx.query(`DELETE FROM file_bank_details WHERE account_id = $1`, [accountId]);
  await write(tx, cipher, accountId, state);
  return 1;
}

/** A projection row that no longer decrypts (tampered) is simply rebuilt. */
function decodeOrNull(cipher: FieldCipher, r: Row): BankState | undefined {
  try {
    return decode(cipher, r);
  } catch {
    return undefined;
  }
}
