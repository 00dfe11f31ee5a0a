import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldCipher, DecryptionError, newDataKey, unwrapDataKey, wrapDataKey } from '../../src/crypto/envelope.ts';
import { blindIndex } from '../../src/crypto/blind-index.ts';

const alice = '11111111-1111-4111-8111-111111111111';
const bob = '22222222-2222-4222-8222-222222222222';

test('a field decrypts to what was encrypted, and two encryptions differ (random IV)', () => {
  const c = new FieldCipher(alice, newDataKey());
  const a = c.encrypt('family_name', 'Dupont-Lefèvre');
  const b = c.encrypt('family_name', 'Dupont-Lefèvre');
  assert.notDeepEqual(a, b);
  assert.equal(c.decrypt('family_name', a), 'Dupont-Lefèvre');
  assert.ok(!a.toString('latin1').includes('Dupont'));
});

test('a ciphertext moved to another field or another account does not decrypt', () => {
  const key = newDataKey();
  const blob = new FieldCipher(alice, key).encrypt('email', 'alice@example.fr');
  assert.throws(() => new FieldCipher(alice, key).decrypt('phone', blob), DecryptionError);
  assert.throws(() => new FieldCipher(bob, key).decrypt('email', blob), DecryptionError);
});

test('a flipped bit is detected, not decrypted to garbage', () => {
  const c = new FieldCipher(alice, newDataKey());
  const blob = c.encrypt('nir', '185057800608491');
  for (const i of [0, 5, 20, blob.length - 1]) {
    const bad = Buffer.from(blob);
    bad[i] = (bad[i] ?? 0) ^ 1;
    assert.throws(() => c.decrypt('nir', bad), DecryptionError);
  }
});

test('a data key unwraps only with its KEK and for its account', () => {
  const kek = newDataKey();
  const dek = newDataKey();
  const wrapped = wrapDataKey(kek, alice, dek);
  assert.deepEqual(unwrapDataKey(kek, alice, wrapped), dek);
  assert.throws(() => unwrapDataKey(newDataKey(), alice, wrapped), DecryptionError);
  assert.throws(() => unwrapDataKey(kek, bob, wrapped), DecryptionError);
});

test('blind indexes are keyed and separated by purpose', () => {
  const k1 = newDataKey();
  assert.deepEqual(blindIndex(k1, 'email', 'a@b.fr'), blindIndex(k1, 'email', 'a@b.fr'));
  assert.notDeepEqual(blindIndex(k1, 'email', 'a@b.fr'), blindIndex(newDataKey(), 'email', 'a@b.fr'));
  assert.notDeepEqual(blindIndex(k1, 'email', 'x'), blindIndex(k1, 'nir', 'x'));
});
