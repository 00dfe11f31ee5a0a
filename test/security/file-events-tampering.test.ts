import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { newId } from '../../src/crypto/random.ts';
import { appendEvent, readEvents, UnknownFileEventError, type Actor } from '../../src/file/events.ts';
import { readBankDetails } from '../../src/file/projections/bank-details.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { newAccount } from '../support/fixtures.ts';

/**
 * After a diversion of payments, the file is the evidence: who changed the bank details,
 * from which session, at which level. Nobody but the schema owner may rewrite or erase it,
 * and one citizen can neither read nor write another's.
 */
for (const backend of backends()) {
  describe(`file events tampering on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock();
    const deps = { ring, clock };
    let alice: string;
    let bob: string;
    let bobsEvent: string;
    const self = (id: string): Actor => ({ kind: 'citizen', id });
    const row = (accountId: string, actor: Actor) => [newId(), accountId, actor.kind, actor.id];
    const RAW_INSERT = `INSERT INTO file_events (id, account_id, type, payload, actor_kind, actor_id, occurred_at) VALUES ($1, $2, 'contact.phone-changed', '\\x00', $3, $4, now())`;

    before(async () => {
      t = await backend.open();
      alice = await newAccount(t.db, deps);
      bob = await newAccount(t.db, deps);
      bobsEvent = (
        await citizen(t.db, bob, (tx) =>
          appendEvent(tx, deps, { accountId: bob, type: 'bank-details.changed', after: { iban: 'FR7630006000011234567890189', holder: 'Bob' }, actor: self(bob), sessionId: null, level: 'eidas2' }),
        )
      ).id;
    });
    after(() => t?.close());

    test('UPDATE and DELETE of events are refused to both application roles', async () => {
      for (const run of [(fn: Parameters<typeof system>[2]) => system(t.db, 'test', fn), (fn: Parameters<typeof system>[2]) => citizen(t.db, bob, fn)]) {
        await assert.rejects(run((tx) => tx.query(`UPDATE file_events SET actor_id = 'someone-else' WHERE id = $1`, [bobsEvent])), /permission denied/);
        await assert.rejects(run((tx) => tx.query(`UPDATE file_events SET payload = '\\x00'`)), /permission denied/);
        await assert.rejects(run((tx) => tx.query(`DELETE FROM file_events WHERE id = $1`, [bobsEvent])), /permission denied/);
        await assert.rejects(run((tx) => tx.query(`TRUNCATE file_events`)), /permission denied/);
      }
    });

    test('even with a mistaken grant, the append-only trigger refuses UPDATE and DELETE', async () => {
      await t.superuser(`GRANT UPDATE, DELETE ON file_events TO sesame_system`);
      try {
        await assert.rejects(system(t.db, 'test', (tx) => tx.query(`UPDATE file_events SET actor_id = 'x' WHERE id = $1`, [bobsEvent])), /append-only/);
        await assert.rejects(system(t.db, 'test', (tx) => tx.query(`DELETE FROM file_events WHERE id = $1`, [bobsEvent])), /append-only/);
      } finally {
        await t.superuser(`REVOKE UPDATE, DELETE ON file_events FROM sesame_system`);
      }
      const events = await system(t.db, 'test', (tx) => readEvents(tx, ring, bob));
      assert.deepEqual(events.map((e) => [e.id, e.actor.id]), [[bobsEvent, bob]]);
    });

    test('the sequence number is assigned by the database, not chosen by the writer', async () => {
      const id = newId();
      await system(t.db, 'test', (tx) =>
        tx.query(`INSERT INTO file_events (id, account_id, type, payload, actor_kind, actor_id, occurred_at) VALUES ($1, $2, 'contact.phone-changed', '\\x00', 'system', 'test', now())`, [id, alice]),
      );
      await assert.rejects(
        system(t.db, 'test', (tx) =>
          tx.query(`INSERT INTO file_events (id, account_id, seq, type, payload, actor_kind, actor_id, occurred_at) VALUES ($1, $2, 999, 'contact.phone-changed', '\\x00', 'system', 'test', now())`, [newId(), alice]),
        ),
        /permission denied/,
      );
      const { rows } = await t.superuser(`SELECT seq::int AS seq FROM file_events WHERE id = $1`, [id]);
      assert.equal(rows[0]?.seq, 1);
      await t.superuser(`DELETE FROM file_events WHERE id = $1`, [id]);
    });

    test("a citizen cannot append to another account's file, nor pose as another actor", async () => {
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(RAW_INSERT, row(bob, self(alice)))), /row-level security/);
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(RAW_INSERT, row(alice, self(bob)))), /row-level security/);
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(RAW_INSERT, row(alice, { kind: 'operator', id: 'ops' }))), /row-level security/);
      // Through the domain function: bob's key is not visible to alice, so nothing is written.
      await assert.rejects(
        citizen(t.db, alice, (tx) =>
          appendEvent(tx, deps, { accountId: bob, type: 'bank-details.changed', after: { iban: 'DE89370400440532013000', holder: 'Alice' }, actor: self(alice), sessionId: null, level: 'eidas2' }),
        ),
      );
      // Nor can she cancel bob's event from her own file (the event is not in her file).
      await assert.rejects(
        citizen(t.db, alice, (tx) => appendEvent(tx, deps, { accountId: alice, type: 'event.cancelled', cancels: bobsEvent, actor: self(alice), sessionId: null, level: 'eidas2' })),
        UnknownFileEventError,
      );
      // And the database itself refuses a cancellation that points across accounts.
      await assert.rejects(
        system(t.db, 'test', (tx) =>
          tx.query(`INSERT INTO file_events (id, account_id, type, payload, actor_kind, actor_id, occurred_at, cancels) VALUES ($1, $2, 'event.cancelled', '\\x00', 'system', 'test', now(), $3)`, [newId(), alice, bobsEvent]),
        ),
        /foreign key/,
      );
      const bobs = await system(t.db, 'test', (tx) => readEvents(tx, ring, bob));
      assert.equal(bobs.length, 1);
      assert.equal((await system(t.db, 'test', (tx) => readBankDetails(tx, ring, bob, new Date())))?.holder, 'Bob');
    });

    test("a citizen reads nothing of another account's events or bank details", async () => {
      assert.deepEqual(await citizen(t.db, alice, (tx) => readEvents(tx, ring, bob)), []);
      assert.equal(await citizen(t.db, alice, (tx) => readBankDetails(tx, ring, bob, new Date())), null);
      const raw = await citizen(t.db, alice, (tx) => tx.query(`SELECT id FROM file_events WHERE account_id = $1 UNION ALL SELECT account_id FROM file_bank_details WHERE account_id = $1`, [bob]));
      assert.equal(raw.rows.length, 0);
      const updated = await citizen(t.db, alice, (tx) => tx.query(`UPDATE file_bank_details SET version = version + 1 WHERE account_id = $1`, [bob]));
      assert.equal(updated.rowCount, 0);
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`DELETE FROM file_bank_details WHERE account_id = $1`, [alice])), /permission denied/);
    });
  });
}
