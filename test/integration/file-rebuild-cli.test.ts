import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/clock.ts';
import { system } from '../../src/db/contexts.ts';
import { appendEvent } from '../../src/file/events.ts';
import { readBankDetails } from '../../src/file/projections/bank-details.ts';
import { formatNir } from '../../src/accounts/nir.ts';
import { backends } from '../support/databases.ts';
import { cliWorkspace, type CliWorkspace } from '../support/cli-workspace.ts';
import { uniqueNir } from '../support/fixtures.ts';
import { sesame } from '../support/cli.ts';

for (const backend of backends()) {
  describe(`sesame file rebuild on ${backend.name}`, { skip: backend.skip }, () => {
    let ws: Omit<CliWorkspace, 'ring'>;
    let env: NodeJS.ProcessEnv;
    let accountId: string;
    const bank = () =>
      ws.withDb(async (db) => {
        const ring = await ws.keys();
        return system(db, 'test', (tx) => readBankDetails(tx, ring, accountId, new Date()));
      });

    before(async () => {
      // No keys written: `sesame users create` creates them.
      ws = await cliWorkspace(backend, { prefix: 'sesame-file-cli-', ring: false });
      env = ws.env;
      const nir = uniqueNir(2);
      const r = await sesame(['users', 'create', '--nir', formatNir(nir), '--email', 'file.cli@example.fr', '--given-name', 'Léa', '--family-name', 'Moreau', '--birthdate', `1985-${nir.slice(3, 5)}-21`], env);
      assert.equal(r.code, 0, r.stderr);
      accountId = r.stdout.trim();
      await ws.withDb(async (db) => {
        const ring = await ws.keys();
        await system(db, 'test', (tx) =>
          appendEvent(tx, { ring, clock: systemClock }, { accountId, type: 'bank-details.changed', after: { iban: 'FR7630006000011234567890189', holder: 'Léa Moreau' }, actor: { kind: 'agency', id: 'caf-75' }, sessionId: null, level: null }),
        );
      });
    });
    after(() => ws?.close());

    test('rebuilds one account: a lost projection row comes back from the events', async () => {
      const expected = await bank();
      assert.ok(expected);
      await ws.withDb((db) => db.runAsOwner((q) => q.query(`DELETE FROM file_bank_details WHERE account_id = $1`, [accountId])));
      assert.equal(await bank(), null);
      const r = await sesame(['file', 'rebuild', '--account', accountId.toUpperCase()], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /done: 1 accounts rebuilt, 1 projection parts corrected/);
      assert.deepEqual(await bank(), expected);
    });

    test('rebuilds every account in batches; a second run corrects nothing', async () => {
      await ws.withDb((db) => db.runAsOwner((q) => q.query(`UPDATE file_bank_details SET version = 7 WHERE account_id = $1`, [accountId])));
      const r = await sesame(['file', 'rebuild', '--batch-size', '1'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /done: 1 accounts rebuilt, 1 projection parts corrected/);
      assert.equal((await bank())?.version, 1);
      const again = await sesame(['file', 'rebuild'], env);
      assert.match(again.stdout, /done: 1 accounts rebuilt, 0 projection parts corrected/);
    });

    test('a bad argument is a usage error (exit 2) that names the flag, not the value', async () => {
      for (const args of [['--account', 'not-a-uuid'], ['--account'], ['--batch-size', '0'], ['--bogus'], ['extra'], ['--account', accountId, '--batch-size', '5']]) {
        const r = await sesame(['file', 'rebuild', ...args], env);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /Usage: sesame file rebuild/);
        assert.ok(!r.stderr.includes('not-a-uuid'));
      }
    });

    test('an unknown account fails (exit 1) and changes nothing', async () => {
      const r = await sesame(['file', 'rebuild', '--account', '00000000-0000-4000-8000-000000000000'], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no account with this id/);
    });
  });
}
