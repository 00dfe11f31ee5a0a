import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { citizen, system, type Tx } from '../../src/db/contexts.ts';
import { newId } from '../../src/crypto/random.ts';
import { readAccount } from '../../src/accounts/accounts.ts';
import { FILE_EVENT_TYPES, FileEventDataError } from '../../src/file/catalogue.ts';
import { appendEvent, cancelEvent, NoChangeError, readEvents, StaleFileError, CancellationError, type Actor } from '../../src/file/events.ts';
import { maskIban, readBankDetails } from '../../src/file/projections/bank-details.ts';
import { rebuildAccount, rebuildAll } from '../../src/file/rebuild.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { newAccount } from '../support/fixtures.ts';

const IBAN_1 = 'FR7630006000011234567890189';
const IBAN_2 = 'DE89370400440532013000';
const IBAN_3 = 'GB82WEST12345698765432';
const PHONE = '+33 6 12 34 56 78';

for (const backend of backends()) {
  describe(`file events on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock();
    const deps = { ring, clock };
    const self = (id: string): Actor => ({ kind: 'citizen', id });

    /** What the projections hold, decrypted (ciphertexts differ on every write: compare values). */
    const projections = (accountId: string) =>
      system(t.db, 'test', async (tx) => {
        const account = await readAccount(tx, ring, accountId);
        const bank = await readBankDetails(tx, ring, accountId, new Date());
        const index = await tx.query<{ email_index: Uint8Array | null }>(`SELECT email_index FROM accounts WHERE id = $1`, [accountId]);
        return { contact: account?.contact, bank, emailIndex: Buffer.from(index.rows[0]?.email_index ?? []).toString('hex') };
      });

    before(async () => {
      t = await backend.open();
    });
    after(() => t?.close());

    test('the catalogue and the CHECK constraint name the same event types', async () => {
      const { rows } = await t.superuser(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'file_events'::regclass AND conname = 'file_events_type_check'`);
      const inSql = [...String(rows[0]?.def).matchAll(/'([a-z.-]+)'::text/g)].map((m) => m[1]).sort();
      assert.deepEqual(inSql, [...FILE_EVENT_TYPES].sort());
    });

    test('a citizen change is an event and shows in the projection at once', async () => {
      const id = await newAccount(t.db, deps);
      const sessionId = newId();
      const r = await citizen(t.db, id, (tx) =>
        appendEvent(tx, deps, { accountId: id, type: 'contact.phone-changed', after: PHONE, actor: self(id), sessionId, level: 'eidas1' }),
      );
      assert.equal(r.seq, 1);
      clock.advance(1000);
      const b = await citizen(t.db, id, (tx) =>
        appendEvent(tx, deps, { accountId: id, type: 'bank-details.changed', before: null, after: { iban: 'fr76 3000 6000 0112 3456 7890 189', holder: 'Camille Martin' }, actor: self(id), sessionId, level: 'eidas2' }),
      );
      assert.equal(b.seq, 2);
      const p = await projections(id);
      assert.equal(p.contact?.phone, PHONE);
      assert.equal(p.bank?.iban, IBAN_1, 'stored normalised');
      assert.equal(p.bank?.holder, 'Camille Martin');
      assert.equal(p.bank?.version, 2);
      assert.equal(p.bank?.masked, maskIban(IBAN_1));
      assert.ok(!p.bank?.masked.includes('3456'));
      assert.ok(p.bank?.masked.endsWith('0189') || p.bank?.masked.replace(/ /g, '').endsWith('0189'));

      const events = await citizen(t.db, id, (tx) => readEvents(tx, ring, id));
      assert.deepEqual(
        events.map((e) => [e.seq, e.type, e.actor.kind, e.actor.id, e.sessionId, e.level]),
        [
          [1, 'contact.phone-changed', 'citizen', id, sessionId, 'eidas1'],
          [2, 'bank-details.changed', 'citizen', id, sessionId, 'eidas2'],
        ],
      );
      assert.deepEqual(events[0]?.data, { key: null, before: null, after: PHONE });
      assert.deepEqual(events[1]?.data, { key: null, before: null, after: { iban: IBAN_1, holder: 'Camille Martin' } });
    });

    test('the recorded before is the value replaced; a stale before, a non-change, a bad value are refused', async () => {
      const id = await newAccount(t.db, deps, { contact: { email: 'first@example.fr' } });
      const tx = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => citizen(t.db, id, fn);
      await tx((q) => appendEvent(q, deps, { accountId: id, type: 'contact.email-changed', after: 'second@example.fr', actor: self(id), sessionId: null, level: 'eidas2' }));
      await assert.rejects(
        tx((q) => appendEvent(q, deps, { accountId: id, type: 'contact.email-changed', before: 'first@example.fr', after: 'third@example.fr', actor: self(id), sessionId: null, level: 'eidas2' })),
        StaleFileError,
      );
      await assert.rejects(
        tx((q) => appendEvent(q, deps, { accountId: id, type: 'contact.email-changed', after: 'second@example.fr', actor: self(id), sessionId: null, level: 'eidas2' })),
        NoChangeError,
      );
      await assert.rejects(
        tx((q) => appendEvent(q, deps, { accountId: id, type: 'bank-details.changed', after: { iban: 'FR7630006000011234567890188', holder: 'X' }, actor: self(id), sessionId: null, level: 'eidas2' })),
        (err: Error) => err instanceof FileEventDataError && !err.message.includes('FR76'),
      );
      const events = await tx((q) => readEvents(q, ring, id));
      assert.equal(events.length, 1, 'refused appends left nothing');
      assert.deepEqual(events[0]?.data, { key: null, before: 'first@example.fr', after: 'second@example.fr' });
      const p = await projections(id);
      assert.equal(p.contact?.email, 'second@example.fr');
    });

    test('20 concurrent appends to one account get seq 1..20: no gap, no duplicate', async () => {
      const id = await newAccount(t.db, deps);
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          citizen(t.db, id, (tx) =>
            appendEvent(tx, deps, { accountId: id, type: 'contact.phone-changed', after: `+33 6 00 00 00 ${String(i).padStart(2, '0')}`, actor: self(id), sessionId: null, level: 'eidas1' }),
          ),
        ),
      );
      const events = await system(t.db, 'test', (tx) => readEvents(tx, ring, id));
      assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 20 }, (_, i) => i + 1));
      // Each change replaced exactly the value the previous one set: the chain has no lost update.
      for (let i = 1; i < events.length; i++) assert.deepEqual((events[i]?.data as { before: unknown }).before, events[i - 1]?.effect.value);
      assert.equal((await projections(id)).contact?.phone, events.at(-1)?.effect.value);
    });

    test('cancelling a change is a compensating event; rebuild gives exactly the incremental projection', async () => {
      const id = await newAccount(t.db, deps, { contact: { email: 'orig@example.fr', phone: null, postalAddress: '1 rue de la Paix, 75002 Paris' } });
      const agency: Actor = { kind: 'agency', id: 'caf-75' };
      const operator: Actor = { kind: 'operator', id: 'ops.alice' };
      const ev = async (input: Parameters<typeof appendEvent>[2]) => {
        clock.advance(60_000);
        return system(t.db, 'test', (tx) => appendEvent(tx, deps, input));
      };
      await ev({ accountId: id, type: 'bank-details.changed', after: { iban: IBAN_1, holder: 'Camille Martin' }, actor: agency, sessionId: null, level: null });
      const hijack = await ev({ accountId: id, type: 'bank-details.changed', after: { iban: IBAN_2, holder: 'M. Escroc' }, actor: self(id), sessionId: newId(), level: 'eidas2' });
      const email = await ev({ accountId: id, type: 'contact.email-changed', after: 'attacker@example.net', actor: self(id), sessionId: newId(), level: 'eidas2' });
      await ev({ accountId: id, type: 'contact.address-changed', after: '2 avenue Foch, 75016 Paris', actor: agency, sessionId: null, level: null });
      const before = await projections(id);
      assert.equal(before.bank?.iban, IBAN_2);

      await ev({ accountId: id, type: 'event.cancelled', cancels: hijack.id, actor: operator, sessionId: null, level: null });
      clock.advance(60_000);
      await system(t.db, 'test', (tx) => cancelEvent(tx, deps, { accountId: id, eventId: email.id, actor: operator, sessionId: null, level: null }));
      const incremental = await projections(id);
      assert.equal(incremental.bank?.iban, IBAN_1, 'the hijacked IBAN is undone');
      assert.equal(incremental.bank?.version, 5);
      assert.equal(incremental.contact?.email, 'orig@example.fr');
      assert.equal(incremental.contact?.postalAddress, '2 avenue Foch, 75016 Paris', 'an unrelated later change stays');

      // The cancelled events are still there, unchanged; the compensations name them.
      const events = await system(t.db, 'test', (tx) => readEvents(tx, ring, id));
      assert.deepEqual(events.map((e) => [e.seq, e.type, e.cancels]), [
        [1, 'bank-details.changed', null],
        [2, 'bank-details.changed', null],
        [3, 'contact.email-changed', null],
        [4, 'contact.address-changed', null],
        [5, 'event.cancelled', hijack.id],
        [6, 'event.cancelled', email.id],
      ]);
      assert.deepEqual(events[4]?.data, { of: 'bank-details.changed', key: null, before: { iban: IBAN_2, holder: 'M. Escroc' }, after: { iban: IBAN_1, holder: 'Camille Martin' } });

      // An event is cancelled once, and a cancellation is not cancelled.
      await assert.rejects(system(t.db, 'test', (tx) => cancelEvent(tx, deps, { accountId: id, eventId: hijack.id, actor: operator, sessionId: null, level: null })), CancellationError);
      await assert.rejects(system(t.db, 'test', (tx) => cancelEvent(tx, deps, { accountId: id, eventId: events[4]?.id ?? '', actor: operator, sessionId: null, level: null })), CancellationError);

      // Damage the projections behind the log's back, then rebuild.
      await t.superuser(`UPDATE accounts SET email = NULL, email_index = NULL, postal_address = '\\x00' WHERE id = $1`, [id]);
      await t.superuser(`UPDATE file_bank_details SET version = 1, iban = '\\x00' WHERE account_id = $1`, [id]);
      const report = await rebuildAccount(t.db, deps, id);
      assert.equal(report.corrected, 3);
      assert.deepEqual(await projections(id), incremental);
      assert.equal((await rebuildAccount(t.db, deps, id)).corrected, 0, 'a rebuild of a sound projection changes nothing');

      // Dropped projection row: rebuild brings it back identical.
      await t.superuser(`DELETE FROM file_bank_details WHERE account_id = $1`, [id]);
      await rebuildAll(t.db, deps, { batchSize: 2 });
      assert.deepEqual(await projections(id), incremental);

      // A wrong blind index (the email itself intact) is corrected too: it is derived from the email.
      await t.superuser(`UPDATE accounts SET email_index = '\\x00' WHERE id = $1`, [id]);
      assert.equal((await rebuildAccount(t.db, deps, id)).corrected, 1);
      assert.deepEqual(await projections(id), incremental);
    });

    test('rebuild of all accounts runs in batches and leaves parts without events as they were', async () => {
      const ids = await Promise.all([0, 1, 2, 3, 4].map(() => newAccount(t.db, deps, { contact: { phone: '+33 1 23 45 67 89' } })));
      const first = ids[0] ?? '';
      await citizen(t.db, first, (tx) =>
        appendEvent(tx, deps, { accountId: first, type: 'bank-details.changed', after: { iban: IBAN_3, holder: 'Camille Martin' }, actor: self(first), sessionId: null, level: 'eidas2' }),
      );
      const snapshot = await Promise.all(ids.map(projections));
      const batches: number[] = [];
      const report = await rebuildAll(t.db, deps, { batchSize: 2, afterBatch: (r) => void batches.push(r.accounts) });
      assert.ok(batches.length >= 3, `several batches (${batches.length})`);
      assert.equal(report.corrected, 0);
      assert.deepEqual(await Promise.all(ids.map(projections)), snapshot);
      assert.equal(snapshot[1]?.contact?.phone, '+33 1 23 45 67 89');
    });

    test('the log at rest reveals no IBAN, phone or holder, and a payload moved to another event does not decrypt', async () => {
      const id = await newAccount(t.db, deps);
      await citizen(t.db, id, async (tx) => {
        await appendEvent(tx, deps, { accountId: id, type: 'contact.phone-changed', after: '+33 7 98 76 54 32', actor: self(id), sessionId: null, level: 'eidas1' });
        await appendEvent(tx, deps, { accountId: id, type: 'bank-details.changed', after: { iban: IBAN_3, holder: 'Brunehilde Vandermoortel' }, actor: self(id), sessionId: null, level: 'eidas2' });
      });
      const { rows } = await t.superuser(`SELECT payload FROM file_events WHERE account_id = $1 UNION ALL SELECT iban FROM file_bank_details WHERE account_id = $1 UNION ALL SELECT holder FROM file_bank_details WHERE account_id = $1`, [id]);
      const raw = Buffer.concat(rows.map((r) => Buffer.from(r.payload as Uint8Array)));
      for (const needle of [IBAN_3, IBAN_3.slice(-8), '98765432', '+33 7 98', 'Vandermoortel', 'Brunehilde']) {
        assert.equal(raw.includes(Buffer.from(needle)), false, 'a value is readable at rest');
        assert.equal(raw.toString('latin1').includes(needle), false);
      }
      // Without the key ring (another ring = a stolen dump without the key file) nothing decrypts.
      const otherRing = KeyRing.generate('kek-test');
      await assert.rejects(system(t.db, 'test', (tx) => readEvents(tx, otherRing, id)));
      // Swap two payloads (a tamperer with write access to the table): the read refuses.
      await t.superuser(`ALTER TABLE file_events DISABLE TRIGGER file_events_append_only`);
      try {
        await t.superuser(`UPDATE file_events SET payload = (SELECT payload FROM file_events WHERE account_id = $1 AND seq = 1) WHERE account_id = $1 AND seq = 2`, [id]);
      } finally {
        await t.superuser(`ALTER TABLE file_events ENABLE TRIGGER file_events_append_only`);
      }
      await assert.rejects(system(t.db, 'test', (tx) => readEvents(tx, ring, id)), /authenticate/);
    });
  });
}
