import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hash as argon2Hash } from '@node-rs/argon2';
import { setPasswordHash } from '../../src/accounts/credentials.ts';
import { ManualClock } from '../../src/clock.ts';
import { hashPassword, verifyPassword, type Argon2Params } from '../../src/crypto/passwords.ts';
import { system } from '../../src/db/contexts.ts';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import type { TestApp } from '../support/app.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { auditSeq, auditSince, storedHash } from '../support/rules-db.ts';
import { countedApp, type CountingHasher } from '../support/rules-hasher.ts';
import { attemptLogin, freshIp } from '../support/rules-login.ts';

/**
 * Argon2id with its parameters stored in the hash string; a hash made with other parameters
 * (older, weaker, stronger, another Argon2 variant) is replaced at the next successful login.
 */
const CHEAP: Argon2Params = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const prefix = (p: Argon2Params): string => `$argon2id$v=19$m=${p.memoryCost},t=${p.timeCost},p=${p.parallelism}$`;

let db: OpenDatabase;
before(async () => {
  db = await openDatabase({ migrate: true });
});
after(() => db.close());

async function withApp(env: Record<string, string>, fn: (t: TestApp, hasher: CountingHasher) => Promise<void>): Promise<void> {
  const { t, hasher } = await countedApp({ db, clock: new ManualClock(), env });
  try {
    await fn(t, hasher);
  } finally {
    await t.close();
  }
}

async function storeHash(t: TestApp, c: Citizen, hash: string): Promise<void> {
  await system(db, 'test', (tx) => setPasswordHash(tx, t.deps.clock, c.accountId, hash));
}

describe('verifyPassword', () => {
  test('says a hash needs rehashing only when the password is right and the parameters differ', async () => {
    const stored = await hashPassword('a long enough passphrase', CHEAP);
    assert.ok(stored.startsWith(prefix(CHEAP)));
    assert.deepEqual(await verifyPassword(stored, 'a long enough passphrase', CHEAP), { ok: true, needsRehash: false });
    assert.deepEqual(await verifyPassword(stored, 'a long enough passphrase', { ...CHEAP, memoryCost: 2048 }), { ok: true, needsRehash: true });
    assert.deepEqual(await verifyPassword(stored, 'a long enough passphrase', { ...CHEAP, timeCost: 2 }), { ok: true, needsRehash: true });
    assert.deepEqual(await verifyPassword(stored, 'a long enough passphrase', { ...CHEAP, parallelism: 2 }), { ok: true, needsRehash: true });
    assert.deepEqual(await verifyPassword(stored, 'not it', { ...CHEAP, memoryCost: 2048 }), { ok: false, needsRehash: false });
    assert.deepEqual(await verifyPassword('not a hash', 'whatever', CHEAP), { ok: false, needsRehash: false });
  });
});

describe('re-hash at login', () => {
  test('a hash made with weaker parameters becomes m=2048,t=2,p=1 (the configured ones) at the next successful login, once', async () => {
    const configured: Argon2Params = { memoryCost: 2048, timeCost: 2, parallelism: 1 };
    await withApp({ SESAME_ARGON2_MEMORY_KIB: '2048', SESAME_ARGON2_TIME_COST: '2' }, async (t, hasher) => {
      const c = await citizenWithPassword(t);
      const old = await hashPassword(c.password, CHEAP);
      await storeHash(t, c, old);

      const seq = await auditSeq(db);
      assert.equal((await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() })).status, 303);
      const rehashed = await storedHash(db, c.accountId);
      assert.ok(rehashed);
      assert.notEqual(rehashed, old);
      assert.ok(rehashed.startsWith(prefix(configured)), rehashed);
      assert.deepEqual(await verifyPassword(rehashed, c.password, configured), { ok: true, needsRehash: false });
      assert.deepEqual(hasher.snapshot(), { hashes: 1, verifies: 1 });
      const verified = (await auditSince(db, seq)).filter((e) => e.type === 'login.password-verified');
      assert.deepEqual(verified.map((e) => e.payload.rehashed), [true]);

      const seq2 = await auditSeq(db);
      assert.equal((await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() })).status, 303);
      assert.equal(await storedHash(db, c.accountId), rehashed, 'not re-hashed a second time');
      assert.deepEqual(hasher.snapshot(), { hashes: 1, verifies: 2 });
      assert.deepEqual((await auditSince(db, seq2)).filter((e) => e.type === 'login.password-verified').map((e) => e.payload.rehashed), [false]);
    });
  });

  test('a hash with stronger parameters than configured is brought to the configured ones too', async () => {
    await withApp({}, async (t) => {
      const c = await citizenWithPassword(t);
      await storeHash(t, c, await hashPassword(c.password, { memoryCost: 4096, timeCost: 3, parallelism: 2 }));
      assert.equal((await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() })).status, 303);
      assert.ok((await storedHash(db, c.accountId))?.startsWith(prefix(CHEAP)));
    });
  });

  test('an Argon2i hash is replaced by an Argon2id one', async () => {
    await withApp({}, async (t) => {
      const c = await citizenWithPassword(t);
      const argon2i = await argon2Hash(c.password, { algorithm: 1, ...CHEAP });
      assert.ok(argon2i.startsWith('$argon2i$'));
      await storeHash(t, c, argon2i);
      assert.equal((await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() })).status, 303);
      assert.ok((await storedHash(db, c.accountId))?.startsWith(prefix(CHEAP)));
    });
  });

  test('a wrong password never re-hashes', async () => {
    await withApp({ SESAME_ARGON2_MEMORY_KIB: '2048' }, async (t, hasher) => {
      const c = await citizenWithPassword(t);
      const old = await hashPassword(c.password, CHEAP);
      await storeHash(t, c, old);
      assert.equal((await attemptLogin(t, { nir: c.nir, password: 'not the password', ip: freshIp() })).status, 401);
      assert.equal(await storedHash(db, c.accountId), old);
      assert.deepEqual(hasher.snapshot(), { hashes: 0, verifies: 1 });
    });
  });
});
