import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { newId } from '../../src/crypto/random.ts';
import { system } from '../../src/db/contexts.ts';
import { audit } from '../../src/audit/log.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { newAccount } from '../support/fixtures.ts';

/**
 * tx.send(): statements nobody waits for. They must keep their order, be seen by what follows,
 * and fail the whole transaction when they fail, with their own error, never a silent commit.
 */
for (const backend of backends()) {
  describe(`pipelined statements on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock();
    let account: string;
    const passwordRows = (): Promise<number> =>
      system(t.db, 'test', async (tx) => (await tx.query(`SELECT 1 FROM credentials WHERE account_id = $1`, [account])).rows.length);
    const auditRows = async (type: string): Promise<number> =>
      system(t.db, 'test', async (tx) => (await tx.query(`SELECT 1 FROM audit_log WHERE type = $1`, [type])).rows.length);

    before(async () => {
      t = await backend.open();
      account = await newAccount(t.db, { ring, clock });
    });
    after(() => t.close());

    test('a later query sees what an earlier send() wrote, in the same transaction', async () => {
      const seen = await system(t.db, 'test', async (tx) => {
        tx.send(`INSERT INTO credentials (id, account_id, kind, secret, created_at, updated_at) VALUES ($1, $2, 'password', 'first', now(), now())`, [newId(), account]);
        tx.send(`UPDATE credentials SET secret = 'second' WHERE account_id = $1`, [account]);
        return (await tx.query<{ secret: string }>(`SELECT secret FROM credentials WHERE account_id = $1`, [account])).rows[0]?.secret;
      });
      assert.equal(seen, 'second');
      assert.equal(await passwordRows(), 1);
    });

    test('a failing send() fails the transaction with its own error, and nothing of it is kept', async () => {
      await assert.rejects(
        system(t.db, 'test', async (tx) => {
          tx.send(`DELETE FROM credentials WHERE account_id = $1`, [account]);
          await audit(tx, clock, { type: 'login.password-verified', accountId: account, payload: { flowId: newId(), rehashed: false } });
          // Duplicate primary key: fails on the database, after the DELETE and before the COMMIT.
          const id = newId();
          tx.send(`INSERT INTO auth_flows (id, kind, state, csrf_binding, requested_level, created_at, expires_at) VALUES ($1, 'login', 'x', 'b', 'eidas1', now(), now())`, [id]);
          tx.send(`INSERT INTO auth_flows (id, kind, state, csrf_binding, requested_level, created_at, expires_at) VALUES ($1, 'login', 'x', 'b', 'eidas1', now(), now())`, [id]);
        }),
        (err: Error & { code?: string }) => err.code === '23505',
      );
      assert.equal(await passwordRows(), 1, 'the DELETE sent before the failure was rolled back');
      assert.equal(await auditRows('login.password-verified'), 0, 'the audit event was rolled back with it');
    });

    test('a query after a failed send() reports the send()\'s error, not "transaction aborted"', async () => {
      await assert.rejects(
        system(t.db, 'test', async (tx) => {
          tx.send(`INSERT INTO auth_flows (id, kind, state, csrf_binding, requested_level, created_at, expires_at) VALUES ($1, 'no-such-kind', 'x', 'b', 'eidas1', now(), now())`, [newId()]);
          await tx.query(`SELECT 1`);
        }),
        (err: Error & { code?: string }) => err.code === '23514' || err.code === '22P02',
      );
    });

    test('queries issued together (pipelined) each get their own answer, in order', async () => {
      const answers = await system(t.db, 'test', async (tx) =>
        Promise.all([1, 2, 3, 4, 5].map(async (n) => (await tx.query<{ n: number }>(`SELECT $1::int * 10 AS n`, [n])).rows[0]?.n)),
      );
      assert.deepEqual(answers, [10, 20, 30, 40, 50]);
    });
  });
}
