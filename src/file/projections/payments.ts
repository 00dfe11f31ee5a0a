import type { Tx } from '../../db/contexts.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import { accountCipher } from '../../accounts/account-keys.ts';
import type { PaymentValue } from '../catalogue.ts';
import { inForceAt, maskIban, readBankState } from './bank-details.ts';
import { decodeEntry, keyedProjection, type EntryRow, type KeyedSpec } from './keyed.ts';

/** Payments projection (file_payments): what the agency paid or will pay, newest date first. */

const SPEC: KeyedSpec<'payment'> = {
  part: 'payment',
  table: 'file_payments',
  columns: ['paid_on', 'status'],
  clear: (v) => [v.date, v.status],
};

export const { current, apply, rebuild } = keyedProjection(SPEC);

export type PaymentView = PaymentValue & {
  id: string;
  accountId: string;
  /** The IBAN paid to, masked: the payment's own, or else the one in force on its date (a held change not yet). */
  ibanMasked: string | null;
};

const COLUMNS = `id, account_id, payload, version::text AS version, updated_at`;

async function decodeAll(tx: Tx, ring: KeyRing, accountId: string, rows: EntryRow[]): Promise<PaymentView[]> {
  if (rows.length === 0) return [];
  const [cipher, bank] = await Promise.all([accountCipher(tx, ring, accountId), readBankState(tx, ring, accountId)]);
  if (!cipher) return [];
  return rows.map((row) => {
    const { id, value } = decodeEntry(SPEC, cipher, row);
    // Noon UTC: a date, not an instant, compared with a hold that ends at some instant that day.
    const iban = value.iban ?? (bank ? inForceAt(bank, new Date(`${value.date}T12:00:00Z`))?.iban : null) ?? null;
    return { ...value, id, accountId: row.account_id, ibanMasked: iban ? maskIban(iban) : null };
  });
}

export async function listPayments(tx: Tx, ring: KeyRing, accountId: string, limit = 5000): Promise<PaymentView[]> {
  const { rows } = await tx.query<EntryRow>(`SELECT ${COLUMNS} FROM file_payments WHERE account_id = $1 ORDER BY paid_on DESC, id LIMIT $2`, [
    accountId,
    limit,
  ]);
  return decodeAll(tx, ring, accountId, rows);
}

/** The next scheduled payment on or after `today` (YYYY-MM-DD), or null. */
export async function nextPayment(tx: Tx, ring: KeyRing, accountId: string, today: string): Promise<PaymentView | null> {
  const { rows } = await tx.query<EntryRow>(
    `SELECT ${COLUMNS} FROM file_payments WHERE account_id = $1 AND status = 'scheduled' AND paid_on >= $2::date ORDER BY paid_on, id LIMIT 1`,
    [accountId, today],
  );
  return (await decodeAll(tx, ring, accountId, rows))[0] ?? null;
}
