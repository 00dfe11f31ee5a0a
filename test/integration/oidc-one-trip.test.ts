import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inOneTrip } from '../../src/oidc/adapter.ts';
import { backends, type TestDatabase } from '../support/databases.ts';

/**
 * inOneTrip (src/oidc/adapter.ts), what the adapter's hot paths run in: the statements are
 * those of a real transaction in the system context, a failing one fails the call, and a
 * statement issued after the first await (which would run after the COMMIT) is refused.
 */
for (const backend of backends()) {
  describe(`inOneTrip on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await backend.open();
    });
    after(() => t.close());

    test('runs in the system context and returns what fn computed from the rows', async () => {
      const out = await inOneTrip(t.db, 'test', async (tx) => {
        const { rows } = await tx.query<{ role: string; app: string }>(`SELECT current_user AS role, current_setting('application_name') AS app`);
        return rows[0];
      });
      assert.deepEqual(out, { role: 'sesame_system', app: 'sesame:system:test' });
    });

    test('statements issued together all run, in order, inside the transaction', async () => {
      const [a, b] = await inOneTrip(t.db, 'test', (tx) =>
        Promise.all([tx.query<{ n: number }>(`SELECT 1 AS n`), tx.query<{ same: boolean }>(`SELECT txid_current() = txid_current() AS same`)]),
      );
      assert.equal(a.rows[0]?.n, 1);
      assert.equal(b.rows[0]?.same, true);
    });

    test('a failing statement fails the call with its own error; the pool stays usable', async () => {
      await assert.rejects(
        inOneTrip(t.db, 'test', async (tx) => {
          tx.send(`UPDATE oidc_data_keys SET kek_id = kek_id WHERE false`);
          await tx.query(`SELECT 1/0`);
        }),
        /division by zero/,
      );
      // The pool's connections are still usable afterwards.
      assert.equal(await inOneTrip(t.db, 'test', async (tx) => (await tx.query<{ n: number }>(`SELECT 2 AS n`)).rows[0]?.n), 2);
    });

    // PostgreSQL only, and declared only there: with CI=true nothing may be skipped.
    if (backend.name === 'postgres') {
      test('a statement after the first await is refused on PostgreSQL (it would run after the COMMIT)', async () => {
        await assert.rejects(
          inOneTrip(t.db, 'test', async (tx) => {
            await tx.query(`SELECT 1`);
            return tx.query(`SELECT 2`);
          }),
          /after the first await/,
        );
      });

      test('oidcSystemStatements: sesame_system from the start, never more, one statement in autocommit', async () => {
        const direct = t.db.oidcSystemStatements;
        assert.ok(direct);
        const { rows } = await direct.query<{ role: string; app: string }>(`SELECT current_user AS role, current_setting('application_name') AS app`);
        assert.equal(rows[0]?.role, 'sesame_system');
        assert.equal(rows[0]?.app, 'sesame:system:oidc');
        // Each statement its own transaction (autocommit), even when they share a connection.
        const xids = await Promise.all([0, 1, 2].map(() => direct.query<{ x: string }>(`SELECT txid_current()::text AS x`)));
        assert.equal(new Set(xids.map((r) => r.rows[0]?.x)).size, 3);
        // RESET ROLE falls back to the startup role, not to the login role.
        const reset = await Promise.all([0, 1, 2, 3, 4, 5].map(() => direct.query(`RESET ROLE`).then(() => direct.query<{ role: string }>(`SELECT current_user AS role`))));
        for (const r of reset) assert.equal(r.rows[0]?.role, 'sesame_system');
        // The system role's grants, no more: no DDL, no other role's data it was not granted.
        await assert.rejects(direct.query(`CREATE TABLE nope (x int)`), /permission denied/);
        // Statements issued together are independent: one failing fails only itself.
        const [bad, good] = await Promise.allSettled([direct.query(`SELECT 1/0`), direct.query<{ n: number }>(`SELECT 3 AS n`)]);
        assert.equal(bad.status, 'rejected');
        assert.equal(good.status === 'fulfilled' && good.value.rows[0]?.n, 3);
      });
    } else {
      test('no oidcSystemStatements on PGlite (the adapter keeps system transactions)', () => {
        assert.equal(t.db.oidcSystemStatements, undefined);
      });
    }
  });
}

/** The exception to "no context, no data" (src/db/database.ts) stays where it was made: the adapter's hot path. */
test('only src/oidc/adapter.ts uses oidcSystemStatements', async () => {
  const root = fileURLToPath(new URL('../../src/', import.meta.url));
  const users: string[] = [];
  for (const entry of await readdir(root, { recursive: true })) {
    if (!entry.endsWith('.ts') || entry.startsWith(`db${path.sep}`)) continue;
    if ((await readFile(path.join(root, entry), 'utf8')).includes('oidcSystemStatements')) users.push(entry.split(path.sep).join('/'));
  }
  assert.deepEqual(users, ['oidc/adapter.ts']);
});
