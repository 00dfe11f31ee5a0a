import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findAccountByNir } from '../../src/accounts/accounts.ts';
import { readEvents } from '../../src/file/events.ts';
import { listPayments } from '../../src/file/projections/payments.ts';
import { paymentIdOf } from '../../src/import/payments.ts';
import { backends } from '../support/databases.ts';
import { BENEFICIARY_HEADER, beneficiaryRow, nirFor, PAYMENT_HEADER, paymentRow } from '../../bench/import-data.ts';
import { importEnv, tableCounts, type ImportEnv } from './import-env.ts';

const csv = (header: string, rows: string[]): string => `${header}\n${rows.join('\n')}\n`;
const PEOPLE = 10;
const valid = Array.from({ length: 3 * PEOPLE }, (_, i) => paymentRow(i, PEOPLE));

for (const backend of backends()) {
  describe(`sesame import payments on ${backend.name}`, { skip: backend.skip }, () => {
    let e: ImportEnv;
    let file: string;
    before(async () => {
      e = await importEnv(backend);
      const people = await e.file('people.csv', csv(BENEFICIARY_HEADER, Array.from({ length: PEOPLE }, (_, i) => beneficiaryRow(i))));
      assert.equal((await e.run(['import', 'beneficiaries', people])).code, 0);
      file = await e.file('payments.csv', csv(PAYMENT_HEADER, valid));
    });
    after(() => e?.close());

    const paymentsOf = (i: number) =>
      e.tx(async (tx, ring) => {
        const account = await findAccountByNir(tx, ring, nirFor(i).nir);
        assert.ok(account);
        return { id: account.id, payments: await listPayments(tx, ring, account.id), events: await readEvents(tx, ring, account.id) };
      });

    test('each row is a payment.recorded event by agency:import, keyed by account and reference', async () => {
      const r = await e.run(['import', 'payments', file, '--batch-size', '7']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /import payments: 30 rows: 30 recorded, 0 updated, 0 unchanged, 0 rejected/);
      const { id, payments, events } = await paymentsOf(0);
      assert.deepEqual(
        payments.map((p) => [p.id, p.reference, p.date, p.benefit, p.amountCents, p.status]),
        [
          [paymentIdOf(id, 'PAY-20'), 'PAY-20', '2026-03-05', 'RSA', 100 * (100 + 20) + 20, 'paid'],
          [paymentIdOf(id, 'PAY-10'), 'PAY-10', '2026-02-05', 'AF', 100 * (100 + 10) + 10, 'paid'],
          [paymentIdOf(id, 'PAY-0'), 'PAY-0', '2026-01-05', 'RSA', 10000, 'paid'],
        ],
      );
      const recorded = events.filter((ev) => ev.type === 'payment.recorded');
      assert.equal(recorded.length, 3);
      assert.ok(recorded.every((ev) => ev.actor.kind === 'agency' && ev.actor.id === 'import'));
    });

    test('the same file again changes nothing; a payment sent again with another status replaces it', async () => {
      const before = await tableCounts(e);
      const again = await e.run(['import', 'payments', file]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /30 rows: 0 recorded, 0 updated, 30 unchanged, 0 rejected/);
      assert.match(again.stdout, /nothing changed in the database/);
      assert.deepEqual(await tableCounts(e), before);

      const paid = await e.file('paid.csv', csv(PAYMENT_HEADER, [valid[0]?.replace(',paid,', ',cancelled,') ?? '']));
      const r = await e.run(['import', 'payments', paid]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /1 rows: 0 recorded, 1 updated, 0 unchanged, 0 rejected/);
      const after = await tableCounts(e);
      assert.equal(after.file_payments, before.file_payments);
      assert.equal(after.file_events, (before.file_events ?? 0) + 1);
      const { payments } = await paymentsOf(0);
      assert.equal(payments.find((p) => p.reference === 'PAY-0')?.status, 'cancelled');
    });

    test('rows that break a rule, or name no account, are rejected with line and rule; exit 1', async () => {
      const unknown = nirFor(5000).nir;
      const rows = [
        `${unknown},PAY-X1,2026-01-05,RSA,10.00,paid,`, // line 2: no such account
        `${nirFor(1).nir},PAY 1,2026-01-05,RSA,10.00,paid,`, // line 3: reference
        `${nirFor(1).nir},PAY-X3,2026-02-30,RSA,10.00,paid,`, // line 4: date
        `${nirFor(1).nir},PAY-X4,2026-01-05,rsa,10.00,paid,`, // line 5: benefit
        `${nirFor(1).nir},PAY-X5,2026-01-05,RSA,"10,5",paid,`, // line 6: amount
        `${nirFor(1).nir},PAY-X6,2026-01-05,RSA,-10.00,paid,`, // line 7: amount
        `${nirFor(1).nir},PAY-X7,2026-01-05,RSA,10.00,late,`, // line 8: status
        `${nirFor(1).nir},PAY-X8,2026-01-05,RSA,10.00,paid,FR7630006000011234567890188`, // line 9: IBAN
        `${nirFor(1).nir},PAY-X9,2026-01-05,RSA,10.00,paid,FR7630006000011234567890189`, // line 10: fine
      ];
      const bad = await e.file('bad-payments.csv', csv(PAYMENT_HEADER, rows));
      const r = await e.run(['import', 'payments', bad]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /9 rows: 1 recorded, 0 updated, 0 unchanged, 8 rejected/);
      const lines = r.stderr.split('\n').filter((l) => /^line \d+:/.test(l));
      assert.deepEqual(lines, [
        'line 2: nir: no account with this NIR (import the beneficiaries first)',
        'line 3: reference: must be 1 to 64 letters, digits, dots, hyphens or underscores',
        'line 4: date: must be a real date written YYYY-MM-DD',
        'line 5: benefit: must be a code of 1 to 16 capital letters, digits or hyphens (RSA, APL, AF…)',
        'line 6: amount: must be euros with 2 decimals and a dot (612.34), at most 1000000.00',
        'line 7: amount: must be euros with 2 decimals and a dot (612.34), at most 1000000.00',
        'line 8: status: must be paid, scheduled, cancelled',
        'line 9: iban: not a valid IBAN of the SEPA area',
      ]);
      assert.ok(!r.stderr.includes(unknown) && !r.stderr.includes('FR7630006000011234567890188'));
      const { payments } = await paymentsOf(1);
      assert.equal(payments.find((p) => p.reference === 'PAY-X9')?.iban, 'FR7630006000011234567890189');
    });
  });
}
