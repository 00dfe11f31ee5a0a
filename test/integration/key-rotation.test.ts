import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { readAccount } from '../../src/accounts/accounts.ts';
import { dataKeysByKek, rewrapDataKeys } from '../../src/accounts/key-rotation.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { newAccount } from '../support/fixtures.ts';
import { OidcPayloadKeys } from '../../src/oidc/payload-keys.ts';

for (const backend of backends()) {
  describe(`key-encryption key rotation on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    const clock = new ManualClock();
    const ring = KeyRing.generate('kek-one');
    const ids: string[] = [];
    before(async () => {
      t = await backend.open();
      for (let i = 0; i < 7; i++) ids.push(await newAccount(t.db, { ring, clock }));
    });
    after(() => t?.close());

    test('an interrupted rotation leaves every account readable and resumes where it stopped', async () => {
      const fieldsBefore = await t.superuser(`SELECT id, nir, email FROM accounts ORDER BY id`);
      ring.adopt(ring.withNewKek('kek-two'));

      await assert.rejects(
        rewrapDataKeys(t.db, ring, clock, {
          batchSize: 3,
          afterBatch: () => {
            throw new Error('operator pressed Ctrl-C');
          },
        }),
        /Ctrl-C/,
      );
      assert.deepEqual(Object.fromEntries(await dataKeysByKek(t.db)), { 'kek-one': 4, 'kek-two': 3 });
      for (const id of ids) assert.ok(await system(t.db, 'test', (tx) => readAccount(tx, ring, id)), 'readable mid-rotation');

      const { rewrapped } = await rewrapDataKeys(t.db, ring, clock, { batchSize: 3 });
      assert.equal(rewrapped, 4);
      assert.deepEqual(Object.fromEntries(await dataKeysByKek(t.db)), { 'kek-two': 7 });

      // Only the data keys changed: the encrypted fields are byte for byte the same.
      assert.deepEqual((await t.superuser(`SELECT id, nir, email FROM accounts ORDER BY id`)).rows, fieldsBefore.rows);

      // The old KEK is no longer needed to read anything.
      const retired = ring.withoutKek('kek-one');
      for (const id of ids) assert.ok(await system(t.db, 'test', (tx) => readAccount(tx, retired, id)), 'readable without the old key');
    });

    test('the OpenID provider’s data keys are counted and re-wrapped too, so retiring the old key loses nothing', async () => {
      const before = new OidcPayloadKeys(t.db, ring, clock);
      const made = await before.current();
      const current = ring.currentKekId;
      ring.adopt(ring.withNewKek('kek-three'));
      assert.equal(Object.fromEntries(await dataKeysByKek(t.db))[current], 8, 'seven accounts and the provider key');
      assert.equal((await rewrapDataKeys(t.db, ring, clock)).rewrapped, 8);
      assert.deepEqual(Object.fromEntries(await dataKeysByKek(t.db)), { 'kek-three': 8 });
      const after = new OidcPayloadKeys(t.db, ring.withoutKek(current), clock);
      assert.equal((await after.current()).id, made.id, 'the same data key, readable under the new KEK alone');
    });

    test('re-running a finished rotation does nothing', async () => {
      assert.deepEqual(await rewrapDataKeys(t.db, ring, clock), { rewrapped: 0 });
    });
  });
}
