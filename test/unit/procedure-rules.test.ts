import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { displayAddress, parseMoveDate } from '../../src/file/procedures/address-change.ts';
import { canMoveTo } from '../../src/file/procedures/catalogue.ts';
import { localDate, monthsOfQuarter } from '../../src/file/procedures/dates.ts';
import { declarableQuarters, parseEuros, parseIncomeDeclaration } from '../../src/file/procedures/income-declaration.ts';
import { certifiedPayments, parsePaymentCertificate } from '../../src/file/procedures/payment-certificate.ts';
import { newReference, REFERENCE } from '../../src/file/procedures/reference.ts';

/** The procedures' rules, without a database: amounts, addresses, quarters, periods, references, status moves. */
describe('procedure rules', () => {
  test('euros as people type them, in cents; negative, too precise, too large or not a number refused', () => {
    const ok = (s: string): number | string => {
      const r = parseEuros(s);
      return r.ok ? r.cents : r.error;
    };
    assert.equal(ok('0'), 0);
    assert.equal(ok('1234'), 123400);
    assert.equal(ok('1 234,56'), 123456);
    assert.equal(ok('1\u202f234,5'), 123450);
    assert.equal(ok('850 €'), 85000);
    assert.equal(ok('12.05'), 1205);
    assert.equal(ok('100000'), 10000000);
    assert.equal(ok('100000.01'), 'amount-too-large');
    assert.equal(ok('-3'), 'amount-negative');
    for (const bad of ['1,234.56', '1.234,56', '12,345', 'abc', '1e3', '0x10', '12,', '--1', '€']) assert.equal(ok(bad), 'amount', bad);
  });

  test('a move is declared within a year back and 3 months ahead (the address itself follows the contact page’s rules)', () => {
    const dates = (moveDate: string) => {
      const r = parseMoveDate(moveDate, '2026-01-15');
      return r.ok ? 'ok' : r.error;
    };
    assert.equal(dates('2025-01-15'), 'ok');
    assert.equal(dates('2025-01-14'), 'date-too-early');
    assert.equal(dates('2026-04-15'), 'ok');
    assert.equal(dates('2026-04-16'), 'date-too-late');
    assert.equal(dates('2026-02-29'), 'date');
    assert.equal(dates('15/01/2026'), 'date');
    assert.equal(dates(' '), 'required');
    assert.equal(displayAddress({ street: '1 place de la Mairie', complement: null, postalCode: '20000', city: 'AJACCIO' }), '1 place de la Mairie, 20000 AJACCIO');
  });

  test('quarters: the current one and the three before, minus those declared; never a future one', () => {
    assert.deepEqual(declarableQuarters('2026-01-15', new Set(['2025-Q3'])), [{ year: 2026, quarter: 1 }, { year: 2025, quarter: 4 }, { year: 2025, quarter: 2 }]);
    assert.deepEqual(monthsOfQuarter({ year: 2025, quarter: 4 }), ['2025-10', '2025-11', '2025-12']);
    const quarter = (q: string, declared: string[] = []) => {
      const r = parseIncomeDeclaration({ quarter: q }, { today: '2026-01-15', declared: new Set(declared) });
      return r.ok ? r.data.quarter : r.errors.quarter;
    };
    assert.equal(quarter('2026-Q1'), '2026-Q1');
    assert.equal(quarter('2025-Q2'), '2025-Q2');
    assert.equal(quarter('2025-Q1'), 'quarter', 'too old');
    assert.equal(quarter('2026-Q2'), 'quarter', 'in the future');
    assert.equal(quarter('2026-Q5'), 'quarter');
    assert.equal(quarter('2025-Q4', ['2025-Q4']), 'quarter-declared');
  });

  test('"today" is the day in Paris, not in UTC', () => {
    assert.equal(localDate(new Date('2025-12-31T23:30:00Z'), 'Europe/Paris'), '2026-01-01');
    assert.equal(localDate(new Date('2025-12-31T23:30:00Z'), 'UTC'), '2025-12-31');
  });

  test('"today" agrees with Intl\'s own calendar day, around changes of offset and in far zones', () => {
    const zones = ['Europe/Paris', 'America/Cayenne', 'Pacific/Noumea', 'Indian/Reunion', 'Pacific/Kiritimati', 'America/Los_Angeles', 'UTC'];
    const instants = ['2026-03-29T00:59:59Z', '2026-03-29T01:00:00Z', '2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z', '2024-02-29T10:00:00Z', '2026-12-31T10:00:00Z', '2027-01-01T09:59:59Z'];
    for (let i = 0; i < 200; i++) instants.push(new Date(Date.UTC(2020, 0, 1) + i * 7_919_993_000).toISOString());
    for (const zone of zones) {
      const intl = new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
      for (const iso of instants) {
        // From Intl's parts, not its text (which changes between ICU versions).
        const part = (type: string): string => intl.formatToParts(new Date(iso)).find((p) => p.type === type)?.value ?? '';
        assert.equal(localDate(new Date(iso), zone), `${part('year')}-${part('month')}-${part('day')}`, `${iso} in ${zone}`);
      }
    }
  });

  test('certificate periods: months offered only, in order, 24 at most; only paid payments of the period up to the issue day', () => {
    const period = (from: string, to: string) => {
      const r = parsePaymentCertificate({ from, to }, '2026-01-15');
      return r.ok ? 'ok' : r.errors;
    };
    assert.equal(period('2024-02', '2026-01'), 'ok');
    assert.deepEqual(period('2024-01', '2026-01'), { to: 'period-too-long' });
    assert.deepEqual(period('2025-05', '2025-04'), { to: 'period-order' });
    assert.deepEqual(period('2026-02', '2026-02'), { from: 'month', to: 'month' });
    assert.deepEqual(period('2023-01', '2023-02'), { from: 'month' }, 'the 36 months before');
    const payments = [
      { date: '2025-03-31', status: 'paid' as const },
      { date: '2025-03-01', status: 'paid' as const },
      { date: '2025-02-28', status: 'paid' as const },
      { date: '2025-04-01', status: 'paid' as const },
      { date: '2025-03-15', status: 'cancelled' as const },
      { date: '2025-03-20', status: 'scheduled' as const },
    ];
    assert.deepEqual(certifiedPayments(payments, { from: '2025-03', to: '2025-03' }, '2026-01-15').map((p) => p.date), ['2025-03-01', '2025-03-31']);
    assert.deepEqual(certifiedPayments(payments, { from: '2025-03', to: '2025-04' }, '2025-03-31').map((p) => p.date), ['2025-03-01', '2025-03-31']);
  });

  test('references: D-year-8 symbols without 0, O, 1 or I; random', () => {
    const refs = new Set(Array.from({ length: 1000 }, () => newReference(2026)));
    assert.equal(refs.size, 1000);
    for (const r of refs) assert.match(r, REFERENCE);
  });

  test('status moves: forward only, decisions final', () => {
    assert.ok(canMoveTo('submitted', 'in-review'));
    assert.ok(canMoveTo('submitted', 'accepted'));
    assert.ok(canMoveTo('in-review', 'rejected'));
    assert.ok(!canMoveTo('in-review', 'in-review'));
    assert.ok(!canMoveTo('accepted', 'rejected'));
    assert.ok(!canMoveTo('rejected', 'accepted'));
    assert.ok(!canMoveTo('cancelled', 'in-review'));
  });
});
