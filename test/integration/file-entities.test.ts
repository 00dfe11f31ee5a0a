import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { newId } from '../../src/crypto/random.ts';
import { generateAccountKey, storeAccountKey } from '../../src/accounts/account-keys.ts';
import { FileEventDataError, type PaymentValue, type ProcedureValue } from '../../src/file/catalogue.ts';
import { appendEvent, appendInitialEvents, cancelEvent, readEvents, type Actor } from '../../src/file/events.ts';
import { maskIban, readBankDetails } from '../../src/file/projections/bank-details.ts';
import { findProcedureByReference, listProcedures, readProcedure } from '../../src/file/projections/procedures.ts';
import { listPayments, nextPayment } from '../../src/file/projections/payments.ts';
import { rebuildAccount } from '../../src/file/rebuild.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { newAccount } from '../support/fixtures.ts';

const OLD_IBAN = 'FR7630006000011234567890189';
const NEW_IBAN = 'DE89370400440532013000';
const DAY = 86_400_000;

for (const backend of backends()) {
  describe(`procedures, payments and held bank details on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock(new Date('2026-11-02T09:00:00Z'));
    const deps = { ring, clock };
    const self = (id: string): Actor => ({ kind: 'citizen', id });
    const agency: Actor = { kind: 'agency', id: 'import' };
    const common = (id: string) => ({ accountId: id, actor: self(id), sessionId: null, level: 'eidas2' as const });

    before(async () => {
      t = await backend.open();
    });
    after(() => t?.close());

    const procedure = (reference: string, status: ProcedureValue['status'] = 'submitted'): ProcedureValue => ({
      kind: 'income-declaration',
      reference,
      status,
      submittedAt: clock.now().toISOString(),
      data: { quarter: '2026-Q3', months: [{ salaries: 123_400 }, { salaries: 0 }, { salaries: 99 }] },
      note: null,
    });
    const payment = (reference: string, date: string, status: PaymentValue['status'], iban: string | null = null): PaymentValue => ({
      reference,
      date,
      benefit: 'RSA',
      amountCents: 61_234,
      status,
      iban,
    });

    test('a submitted procedure is listed; a status change and a cancellation follow it; a rebuild gives the same', async () => {
      const id = await newAccount(t.db, deps);
      const key = newId();
      await citizen(t.db, id, (tx) => appendEvent(tx, deps, { ...common(id), type: 'procedure.submitted', key, after: procedure('D-2026-ABCDEF12') }));
      clock.advance(1000);
      const inReview = { ...procedure('D-2026-ABCDEF12'), status: 'in-review' as const };
      await system(t.db, 'test', (tx) =>
        appendEvent(tx, deps, { accountId: id, actor: { kind: 'agency', id: 'caf' }, sessionId: null, level: null, type: 'procedure.status-changed', key, after: inReview }),
      );
      const listed = await citizen(t.db, id, (tx) => listProcedures(tx, ring, id));
      assert.equal(listed.length, 1);
      assert.equal(listed[0]?.status, 'in-review');
      assert.equal(listed[0]?.accountId, id);
      assert.deepEqual(await system(t.db, 'test', (tx) => findProcedureByReference(tx, 'D-2026-ABCDEF12')), { id: key, accountId: id });

      // Cancelling the submission (what an incident does) keeps it listed, as cancelled.
      const submitted = (await citizen(t.db, id, (tx) => readEvents(tx, ring, id))).find((e) => e.type === 'procedure.submitted');
      assert.ok(submitted);
      await system(t.db, 'test', (tx) => cancelEvent(tx, deps, { accountId: id, actor: { kind: 'operator', id: 'ops' }, sessionId: null, level: null, eventId: submitted.id }));
      const cancelled = await citizen(t.db, id, (tx) => readProcedure(tx, ring, id, key));
      assert.equal(cancelled?.status, 'cancelled');
      assert.equal(cancelled?.reference, 'D-2026-ABCDEF12');

      await t.superuser(`UPDATE file_procedures SET status = 'accepted', payload = '\\x00' WHERE id = $1`, [key]);
      const report = await rebuildAccount(t.db, deps, id);
      assert.equal(report.corrected, 1);
      assert.equal((await citizen(t.db, id, (tx) => readProcedure(tx, ring, id, key)))?.status, 'cancelled');
    });

    test('a procedure id is submitted once; another account cannot see it; bad values name the rule only', async () => {
      const alice = await newAccount(t.db, deps);
      const bob = await newAccount(t.db, deps);
      const key = newId();
      await citizen(t.db, alice, (tx) => appendEvent(tx, deps, { ...common(alice), type: 'procedure.submitted', key, after: procedure('D-2026-ONCE0001') }));
      await assert.rejects(
        citizen(t.db, alice, (tx) => appendEvent(tx, deps, { ...common(alice), type: 'procedure.submitted', key, after: procedure('D-2026-ONCE0002') })),
        FileEventDataError,
      );
      assert.equal(await citizen(t.db, bob, (tx) => readProcedure(tx, ring, bob, key)), null);
      assert.deepEqual(await citizen(t.db, bob, (tx) => listProcedures(tx, ring, alice)), []);
      await assert.rejects(
        citizen(t.db, alice, (tx) => appendEvent(tx, deps, { ...common(alice), type: 'procedure.submitted', key: 'not-a-uuid', after: procedure('D-2026-ONCE0003') })),
        /key: not an entry id/,
      );
      const secret = 'Jean Secret';
      await assert.rejects(
        citizen(t.db, alice, (tx) => appendEvent(tx, deps, { ...common(alice), type: 'procedure.submitted', key: newId(), after: { ...procedure(secret), note: null } })),
        (err: Error) => err instanceof FileEventDataError && !err.message.includes(secret),
      );
    });

    test('payments: recorded by the agency, replaced by a later record, masked with the IBAN in force on their date', async () => {
      const id = await newAccount(t.db, deps);
      const agencyCommon = { accountId: id, actor: agency, sessionId: null, level: null };
      await system(t.db, 'test', (tx) => appendEvent(tx, deps, { ...agencyCommon, type: 'bank-details.changed', after: { iban: OLD_IBAN, holder: 'Camille' } }));
      // The citizen declares new details, held for 3 days.
      const heldUntil = new Date(clock.now().getTime() + 3 * DAY);
      await citizen(t.db, id, (tx) => appendEvent(tx, deps, { ...common(id), type: 'bank-details.changed', after: { iban: NEW_IBAN, holder: 'Camille' }, effectiveAt: heldUntil }));
      const paid = newId();
      const soon = newId();
      const later = newId();
      await system(t.db, 'test', async (tx) => {
        await appendEvent(tx, deps, { ...agencyCommon, type: 'payment.recorded', key: paid, after: payment('P1', '2026-10-05', 'paid', OLD_IBAN) });
        await appendEvent(tx, deps, { ...agencyCommon, type: 'payment.recorded', key: soon, after: payment('P2', '2026-11-03', 'scheduled') });
        await appendEvent(tx, deps, { ...agencyCommon, type: 'payment.recorded', key: later, after: payment('P3', '2026-12-05', 'scheduled') });
      });
      const list = await citizen(t.db, id, (tx) => listPayments(tx, ring, id));
      assert.deepEqual(
        list.map((p) => [p.reference, p.ibanMasked]),
        [
          ['P3', maskIban(NEW_IBAN)],
          ['P2', maskIban(OLD_IBAN)],
          ['P1', maskIban(OLD_IBAN)],
        ],
      );
      assert.equal((await citizen(t.db, id, (tx) => nextPayment(tx, ring, id, '2026-11-02')))?.reference, 'P2');
      // P2 paid: the same record again with a new status replaces it; the same record once more is no change.
      await system(t.db, 'test', (tx) => appendEvent(tx, deps, { ...agencyCommon, type: 'payment.recorded', key: soon, after: payment('P2', '2026-11-03', 'paid', OLD_IBAN) }));
      await assert.rejects(
        system(t.db, 'test', (tx) => appendEvent(tx, deps, { ...agencyCommon, type: 'payment.recorded', key: soon, after: payment('P2', '2026-11-03', 'paid', OLD_IBAN) })),
        /the new value is the current one/,
      );
      assert.equal((await citizen(t.db, id, (tx) => nextPayment(tx, ring, id, '2026-11-02')))?.reference, 'P3');
      // Payments are the agency's: a citizen cannot record one.
      await assert.rejects(citizen(t.db, id, (tx) => appendEvent(tx, deps, { ...common(id), type: 'payment.recorded', key: newId(), after: payment('P9', '2026-11-03', 'paid') })));
      assert.equal((await rebuildAccount(t.db, deps, id)).corrected, 0);
    });

    test('held bank details: the previous IBAN stays in force until the hold ends; cancelling sets it back at once', async () => {
      const id = await newAccount(t.db, deps);
      await system(t.db, 'test', (tx) =>
        appendEvent(tx, deps, { accountId: id, actor: agency, sessionId: null, level: null, type: 'bank-details.changed', after: { iban: OLD_IBAN, holder: 'Camille' } }),
      );
      const heldUntil = new Date(clock.now().getTime() + 3 * DAY);
      const change = await citizen(t.db, id, (tx) =>
        appendEvent(tx, deps, { ...common(id), type: 'bank-details.changed', after: { iban: NEW_IBAN, holder: 'Camille M' }, effectiveAt: heldUntil }),
      );
      const view = await citizen(t.db, id, (tx) => readBankDetails(tx, ring, id, clock.now()));
      assert.equal(view?.iban, NEW_IBAN);
      assert.equal(view?.pending, true);
      assert.equal(view?.effectiveAt?.getTime(), heldUntil.getTime());
      assert.equal(view?.previous?.iban, OLD_IBAN);
      assert.equal(view?.changeEventId, change.id);
      assert.equal((await citizen(t.db, id, (tx) => readBankDetails(tx, ring, id, new Date(heldUntil.getTime() + 1))))?.pending, false);
      assert.equal((await rebuildAccount(t.db, deps, id)).corrected, 0, 'the fold gives what was applied');

      await assert.rejects(
        citizen(t.db, id, (tx) => appendEvent(tx, deps, { ...common(id), type: 'contact.phone-changed', after: '+33 6 00 00 00 00', effectiveAt: heldUntil })),
        /only new bank details wait/,
      );
      clock.advance(60_000);
      await citizen(t.db, id, (tx) => cancelEvent(tx, deps, { ...common(id), eventId: change.id }));
      const back = await citizen(t.db, id, (tx) => readBankDetails(tx, ring, id, clock.now()));
      assert.equal(back?.iban, OLD_IBAN);
      assert.equal(back?.pending, false);
      assert.equal(back?.previous, null);
      assert.equal((await rebuildAccount(t.db, deps, id)).corrected, 0);
      assert.equal(maskIban(OLD_IBAN), 'FR76 **** **** **** **** ***0 189');
    });

    test('initial events of new accounts go in one statement and are projected', async () => {
      // Fresh accounts with keys generated here (what an import does).
      const fresh = await system(t.db, 'test', async (tx) => {
        const out: string[] = [];
        for (let i = 0; i < 3; i++) {
          const id = newId();
          const { cipher, dataKey } = generateAccountKey(id);
          await tx.query(
            `INSERT INTO accounts (id, status, nir_index, nir, given_names, family_name, birth_date, created_at, updated_at)
             VALUES ($1, 'pending_activation', $2, $3, $3, $3, $3, now(), now())`,
            [id, Buffer.from(id), cipher.encrypt('nir', 'x')],
          );
          await storeAccountKey(tx, ring, clock, id, dataKey);
          await appendInitialEvents(tx, deps, [{ accountId: id, cipher, type: 'bank-details.changed', after: { iban: OLD_IBAN, holder: `H${i}` }, actor: agency }]);
          out.push(id);
        }
        return out;
      });
      for (const [i, id] of fresh.entries()) {
        const view = await citizen(t.db, id, (tx) => readBankDetails(tx, ring, id, clock.now()));
        assert.equal(view?.holder, `H${i}`);
        const events = await citizen(t.db, id, (tx) => readEvents(tx, ring, id));
        assert.equal(events.length, 1);
        assert.equal(events[0]?.seq, 1);
        assert.deepEqual(events[0]?.actor, agency);
        assert.equal((await rebuildAccount(t.db, deps, id)).corrected, 0);
      }
    });
  });
}
