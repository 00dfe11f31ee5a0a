import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { audit } from '../../src/audit/log.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { newAccount } from '../support/fixtures.ts';

for (const backend of backends()) {
  describe(`audit log on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock();
    let alice: string;
    let bob: string;
    const verify = () => system(t.db, 'test', (tx) => verifyAuditChain(tx));

    before(async () => {
      t = await backend.open();
      alice = await newAccount(t.db, { ring, clock });
      bob = await newAccount(t.db, { ring, clock });
    });
    after(() => t?.close());

    test('events from citizen and system contexts chain into one verifiable log', async () => {
      clock.advance(1000);
      await citizen(t.db, alice, (tx) => audit(tx, clock, { type: 'mail.queued', accountId: alice, payload: { messageId: 'm1', template: 'account-created' } }));
      await system(t.db, 'test', (tx) => audit(tx, clock, { type: 'keys.rewrapped', accountId: null, payload: { to: 'k', count: 2 } }));
      const report = await verify();
      assert.deepEqual(report, { ok: true, rows: 4 });
      const actors = await t.superuser(`SELECT actor FROM audit_log ORDER BY seq`);
      assert.deepEqual(actors.rows.map((r) => r.actor), ['system:test', 'system:test', `citizen:${alice}`, 'system:test']);
    });

    test('concurrent writers never chain onto the same predecessor', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          citizen(t.db, i % 2 ? alice : bob, (tx) => audit(tx, clock, { type: 'mail.queued', accountId: i % 2 ? alice : bob, payload: { messageId: `c${i}`, template: 't' } })),
        ),
      );
      assert.deepEqual(await verify(), { ok: true, rows: 24 });
    });

    test('the application roles cannot update or delete audit rows', async () => {
      await assert.rejects(system(t.db, 'test', (tx) => tx.query(`UPDATE audit_log SET type = 'x'`)), /permission denied/);
      await assert.rejects(system(t.db, 'test', (tx) => tx.query(`DELETE FROM audit_log`)), /permission denied/);
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`DELETE FROM audit_log WHERE account_id = $1`, [alice])), /permission denied/);
      await assert.rejects(t.superuser(`DELETE FROM audit_log WHERE seq = 1`), /append-only/);
    });

    test('a citizen reads only their own audit events', async () => {
      const { rows } = await citizen(t.db, alice, (tx) => tx.query<{ account_id: string }>(`SELECT account_id FROM audit_log`));
      assert.ok(rows.length > 0 && rows.every((r) => r.account_id === alice));
    });

    test('a row tampered with as superuser is found, and so is a deleted one', async () => {
      // A superuser can bypass the append-only trigger; the chain still tells.
      await t.superuser(`SET session_replication_role = replica`);
      try {
        await t.superuser(`UPDATE audit_log SET payload = '{"messageId":"forged","template":"t"}' WHERE seq = 7`);
        assert.deepEqual(await verify(), { ok: false, rows: 6, brokenAt: 7, reason: 'hash' });
        await t.superuser(`DELETE FROM audit_log WHERE seq = 7`);
        assert.deepEqual(await verify(), { ok: false, rows: 6, brokenAt: 7, reason: 'sequence' });
        // Renumbering to hide the gap breaks the link to the predecessor instead.
        await t.superuser(`UPDATE audit_log SET seq = seq - 1 WHERE seq > 7`);
        assert.deepEqual(await verify(), { ok: false, rows: 6, brokenAt: 7, reason: 'link' });
      } finally {
        await t.superuser(`SET session_replication_role = origin`);
      }
    });
  });
}
