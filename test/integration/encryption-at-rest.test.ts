import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { findAccountByNir, readAccount, DuplicateNirError, createAccount } from '../../src/accounts/accounts.ts';
import { shredAccountKey } from '../../src/accounts/account-keys.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { newAccount, person } from '../support/fixtures.ts';

for (const backend of backends()) {
  describe(`encrypted accounts on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock();
    before(async () => {
      t = await backend.open();
    });
    after(() => t?.close());

    test('every PII column holds ciphertext; the account reads back in clear through its key', async () => {
      const p = person({ identity: { givenNames: 'Anne-Sophie', familyName: 'Zébulon', usageName: 'Quenouillard' }, contact: { phone: '+33 6 12 34 56 78', postalAddress: '12 rue des Lilas, 75011 Paris' } });
      const { id } = await system(t.db, 'test', (tx) => createAccount(tx, { ring, clock }, { ...p, status: 'active', via: 'cli' }));
      const { rows } = await t.superuser(`SELECT * FROM accounts WHERE id = $1`, [id]);
      const raw = JSON.stringify(rows[0], (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
      for (const value of [p.identity.nir, 'Anne-Sophie', 'Zébulon', 'Quenouillard', '1985-07-14', 'Paris', p.contact.email ?? '', '12 34 56 78', 'Lilas']) {
        assert.ok(!raw.includes(value), `a column holds ${value} in clear`);
      }
      const account = await system(t.db, 'test', (tx) => readAccount(tx, ring, id));
      assert.deepEqual(account?.identity, p.identity);
      assert.deepEqual(account?.contact, p.contact);
    });

    test('an account is found by NIR through the blind index; a duplicate NIR is refused', async () => {
      const p = person();
      const { id } = await system(t.db, 'test', (tx) => createAccount(tx, { ring, clock }, { ...p, status: 'pending_activation', via: 'cli' }));
      assert.deepEqual(await system(t.db, 'test', (tx) => findAccountByNir(tx, ring, p.identity.nir)), { id, status: 'pending_activation' });
      await assert.rejects(
        system(t.db, 'test', (tx) => createAccount(tx, { ring, clock }, { ...person(), identity: p.identity, status: 'active', via: 'cli' })),
        DuplicateNirError,
      );
    });

    test('deleting the data key shreds the account: nothing of it can be decrypted again', async () => {
      const id = await newAccount(t.db, { ring, clock });
      const before = await t.superuser(`SELECT nir, given_names FROM accounts WHERE id = $1`, [id]);
      assert.equal(await system(t.db, 'test', (tx) => shredAccountKey(tx, id)), true);
      assert.equal(await system(t.db, 'test', (tx) => readAccount(tx, ring, id)), null);
      assert.equal(await citizen(t.db, id, (tx) => readAccount(tx, ring, id)), null);
      // The ciphertext is still there, unchanged, and no key in the ring opens it.
      const after = await t.superuser(`SELECT nir, given_names FROM accounts WHERE id = $1`, [id]);
      assert.deepEqual(after.rows, before.rows);
    });
  });
}
