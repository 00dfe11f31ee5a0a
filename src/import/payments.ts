import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { nirIndex, type CryptoDeps } from '../accounts/accounts.ts';
import { accountCipher } from '../accounts/account-keys.ts';
import { parseNir } from '../accounts/nir.ts';
import { FileEventDataError, normaliseIban, PART_VALUES, PAYMENT_STATUSES, type PaymentValue } from '../file/catalogue.ts';
import { appendEvent, currentValue, NoChangeError, ShreddedFileError } from '../file/events.ts';
import { ibanProblem } from '../file/iban.ts';
import { AGENCY_IMPORT } from './beneficiaries.ts';
import type { Cells, KindSpec, ValidRow, Validation, WriteResult } from './kind.ts';

/**
 * `sesame import payments`: each row is a `payment.recorded` event by agency:import on the
 * account of its NIR. The payment's id is derived from (account, reference), so the same
 * payment sent again is the same entry of the file: unchanged, nothing is written; sent with
 * another status or amount (scheduled → paid), a new event replaces it.
 */

export const PAYMENT_COLUMNS = ['nir', 'reference', 'date', 'benefit', 'amount', 'status', 'iban'] as const;
const REQUIRED = ['nir', 'reference', 'date', 'benefit', 'amount', 'status'] as const;

export interface Payment {
  nirIndex: Buffer;
  value: PaymentValue;
}

/**
 * A UUID (version 8: application-defined) from SHA-256 of the account and the agency's
 * reference. Stable across runs and key changes; it reveals nothing, the account id being random.
 */
export function paymentIdOf(accountId: string, reference: string): string {
  const h = createHash('sha256').update(`sesame:payment\u0000${accountId}\u0000${reference}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x80;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const AMOUNT = /^(0|[1-9][0-9]{0,6})\.([0-9]{2})$/;
const MAX_CENTS = 100_000_000;

function realDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

const FIELD_COLUMN: Record<string, string> = { amountCents: 'amount' };

export function validatePayment(ring: CryptoDeps['ring'], cells: Cells): Validation<Payment> {
  const problems: string[] = [];
  const nir = parseNir(cells('nir'));
  if (!nir.ok) problems.push(`nir: ${nir.error.message.en}`);
  const reference = cells('reference').trim();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(reference)) problems.push('reference: must be 1 to 64 letters, digits, dots, hyphens or underscores');
  const date = cells('date').trim();
  if (!realDate(date)) problems.push('date: must be a real date written YYYY-MM-DD');
  const benefit = cells('benefit').trim();
  if (!/^[A-Z0-9-]{1,16}$/.test(benefit)) problems.push('benefit: must be a code of 1 to 16 capital letters, digits or hyphens (RSA, APL, AF…)');
  const amount = AMOUNT.exec(cells('amount').trim());
  const amountCents = amount ? Number(amount[1]) * 100 + Number(amount[2]) : -1;
  if (!amount || amountCents > MAX_CENTS) problems.push('amount: must be euros with 2 decimals and a dot (612.34), at most 1000000.00');
  const status = cells('status').trim();
  if (!(PAYMENT_STATUSES as readonly string[]).includes(status)) problems.push(`status: must be ${PAYMENT_STATUSES.join(', ')}`);
  const ibanCell = cells('iban').trim();
  const iban = ibanCell === '' ? null : normaliseIban(ibanCell);
  if (iban !== null && ibanProblem(iban) !== null) problems.push('iban: not a valid IBAN of the SEPA area');
  if (problems.length > 0 || !nir.ok) return { problems };
  // The catalogue has the last word: the event is read back with it.
  const parsed = PART_VALUES.payment.safeParse({ reference, date, benefit, amountCents, status, iban });
  if (!parsed.success || parsed.data === null) {
    return { problems: (parsed.error?.issues ?? []).map((i) => `${FIELD_COLUMN[String(i.path[0])] ?? String(i.path[0] ?? 'row')}: ${i.message}`) };
  }
  return { value: { nirIndex: nirIndex(ring, nir.nir.value), value: parsed.data } };
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Accounts written to at the same time within a batch (one transaction, pipelined statements). */
const CONCURRENT_ACCOUNTS = 8;

export function paymentsImport(deps: CryptoDeps): KindSpec<Payment> {
  return {
    kind: 'payments',
    columns: PAYMENT_COLUMNS,
    required: REQUIRED,
    wording: { created: 'recorded', updated: 'updated', unchanged: 'unchanged', rejected: 'rejected' },
    validate: (cells) => validatePayment(deps.ring, cells),
    async write(tx, rows): Promise<WriteResult> {
      const result: WriteResult = { counts: { created: 0, updated: 0, unchanged: 0, rejected: 0 }, rejects: [], notes: [] };
      const counts = result.counts as Required<WriteResult['counts']>;
      const { rows: found } = await tx.query<{ id: string; nir_index: Uint8Array }>(`SELECT id, nir_index FROM accounts WHERE nir_index = ANY($1::bytea[])`, [
        rows.map((r) => r.value.nirIndex),
      ]);
      const accountOf = new Map(found.map((f) => [hex(f.nir_index), f.id]));
      // One account's rows in file order (a later row for the same payment replaces an earlier one).
      const byAccount = new Map<string, ValidRow<Payment>[]>();
      for (const row of rows) {
        const accountId = accountOf.get(hex(row.value.nirIndex));
        if (!accountId) {
          counts.rejected++;
          result.rejects.push({ line: row.line, fields: row.fields, reason: 'nir: no account with this NIR (import the beneficiaries first)' });
          continue;
        }
        const list = byAccount.get(accountId) ?? [];
        if (list.length === 0) byAccount.set(accountId, list);
        list.push(row);
      }
      const record = async (accountId: string, row: ValidRow<Payment>): Promise<void> => {
        const cipher = await accountCipher(tx, deps.ring, accountId);
        const reject = (reason: string): void => {
          counts.rejected++;
          result.rejects.push({ line: row.line, fields: row.fields, reason });
        };
        if (!cipher) return reject("nir: this account's data was erased (its key was shredded)");
        const key = paymentIdOf(accountId, row.value.value.reference);
        const current = await currentValue(tx, deps, cipher, accountId, 'payment', key);
        if (isDeepStrictEqual(current, row.value.value)) {
          counts.unchanged++;
          return;
        }
        try {
          await appendEvent(tx, deps, { type: 'payment.recorded', accountId, key, after: row.value.value, actor: AGENCY_IMPORT, sessionId: null, level: null });
        } catch (err) {
          // Refusals raised before anything is written: the row is rejected, the batch goes on.
          if (err instanceof NoChangeError) {
            counts.unchanged++;
            return;
          }
          if (err instanceof ShreddedFileError) return reject("nir: this account's data was erased (its key was shredded)");
          if (err instanceof FileEventDataError) return reject(err.message);
          throw err;
        }
        counts[current === null ? 'created' : 'updated']++;
      };
      const queue = [...byAccount.entries()];
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENT_ACCOUNTS, queue.length) }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) {
            const [accountId, list] = next;
            for (const row of list) await record(accountId, row);
          }
        }),
      );
      return result;
    },
  };
}
