import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { DecryptionError } from '../../src/crypto/envelope.ts';
import { system } from '../../src/db/contexts.ts';
import { readAccount } from '../../src/accounts/accounts.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { newAccount } from '../support/fixtures.ts';

/**
 * An attacker with write access to the database (a stolen DBA account) copies one
 * beneficiary's encrypted fields or data key onto another's row, hoping the application
 * will show or use them as the victim's. The AAD binding makes decryption fail instead.
 */
for (const backend of backends()) {
  describe(`ciphertext and data-key swaps on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock();
    before(async () => {
      t = await backend.open();
    });
    after(() => t?.close());

    test("another account's field copied into a row does not decrypt", async () => {
      const alice = await newAccount(t.db, { ring, clock }, { contact: { email: 'alice@example.fr' } });
      const mallory = await newAccount(t.db, { ring, clock }, { contact: { email: 'mallory@example.fr' } });
      await t.superuser(`UPDATE accounts SET email = (SELECT email FROM accounts WHERE id = $2) WHERE id = $1`, [alice, mallory]);
      await assert.rejects(system(t.db, 'test', (tx) => readAccount(tx, ring, alice)), DecryptionError);
    });

    test('a field copied into another column of the same row does not decrypt', async () => {
      const id = await newAccount(t.db, { ring, clock });
      await t.superuser(`UPDATE accounts SET family_name = given_names WHERE id = $1`, [id]);
      await assert.rejects(system(t.db, 'test', (tx) => readAccount(tx, ring, id)), DecryptionError);
    });

    test("another account's wrapped data key does not unwrap for this account", async () => {
      const victim = await newAccount(t.db, { ring, clock });
      const attacker = await newAccount(t.db, { ring, clock });
      await t.superuser(`UPDATE account_keys SET wrapped_key = (SELECT wrapped_key FROM account_keys WHERE account_id = $2) WHERE account_id = $1`, [victim, attacker]);
      await assert.rejects(system(t.db, 'test', (tx) => readAccount(tx, ring, victim)), DecryptionError);
    });
  });
}
