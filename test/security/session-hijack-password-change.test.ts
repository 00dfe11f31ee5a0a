import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argon2Hasher } from '../../src/auth/methods/password.ts';
import { SESSION_COOKIE } from '../../src/auth/session-plugin.ts';
import { system } from '../../src/db/contexts.ts';
import { Browser, citizenWithPassword, logIn, mailsFor } from '../support/login.ts';
import { CountingHasher } from '../support/rules-hasher.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * Attack: someone got hold of a citizen's session cookie (malware, a shared computer, a
 * phished session) but not the password, and tries to change the password to lock the owner
 * out. The security page asks for the current password, and its guesses are throttled like
 * the login's (one budget per NIR): after the 5th wrong guess a delay applies and a throttled
 * attempt costs no hash at all.
 */
// The parameters testApp configures (cheap, but the real Argon2id), with every call counted.
const hasher = new CountingHasher(argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }));

onEachBackend('session hijack → password change', () => ({ hasher }), ({ t }) => {
  test('a stolen session cookie without the password cannot change the password', async () => {
    const c = await citizenWithPassword(t);
    const owner = new Browser(t);
    await logIn(owner, c);
    const hashBefore = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ secret: string }>(`SELECT secret FROM credentials WHERE account_id = $1`, [c.accountId])).rows[0]?.secret);

    const thief = new Browser(t);
    thief.ip = '198.51.100.66';
    thief.userAgent = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
    const stolen = owner.jar.get(SESSION_COOKIE);
    assert.ok(stolen);
    thief.jar.set(SESSION_COOKIE, stolen);
    assert.equal((await thief.get('/account/security')).statusCode, 200, 'the cookie alone opens the page');

    const guess = (current: string) =>
      thief.post('/account/security/password', { method: 'password', current, password: 'the thief’s own passphrase', confirm: 'the thief’s own passphrase' });

    hasher.verifies = 0;
    hasher.hashes = 0;
    for (let i = 1; i <= 5; i++) {
      const res = await guess(`guess number ${i} for the password`);
      assert.equal(res.statusCode, 400, `guess ${i}`);
      assert.match(res.body, /Le mot de passe actuel est incorrect\./);
      assert.equal(hasher.verifies, i, 'each guess costs one verification');
    }
    assert.equal(hasher.hashes, 0, 'no new password was hashed');

    // The 5th failure set a delay: the next guesses are refused before any hashing, even a right one.
    for (const current of ['guess number 6 for the password', c.password]) {
      const res = await guess(current);
      assert.equal(res.statusCode, 429);
      assert.match(res.body, /Trop de tentatives/);
      assert.match(res.body, /suspendue jusqu’à 10:00/);
      assert.equal(res.headers['retry-after'], '30');
    }
    assert.equal(hasher.verifies, 5, 'a throttled attempt computes no hash');
    assert.equal(hasher.hashes, 0);

    // One budget per NIR: the thief's guesses here also count at /login, and the reverse.
    const login = new Browser(t);
    login.ip = '198.51.100.67';
    await login.get('/login');
    assert.equal((await login.post('/login', { method: 'password', nir: c.nir, password: c.password })).statusCode, 429);

    // Once the delay is over, guesses fired in parallel cannot all pass the check before the first failure is recorded.
    t.clock.advance(31_000);
    const page = thief.lastPage;
    const parallel = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        thief.post('/account/security/password', { method: 'password', current: `parallel guess ${i}`, password: 'the thief’s own passphrase', confirm: 'the thief’s own passphrase' }, page),
      ),
    );
    assert.deepEqual(parallel.map((r) => r.statusCode).sort(), [400, 429, 429, 429, 429, 429, 429, 429]);
    assert.equal(hasher.verifies, 6, 'only one of the parallel guesses was hashed');

    const hashAfter = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ secret: string }>(`SELECT secret FROM credentials WHERE account_id = $1`, [c.accountId])).rows[0]?.secret);
    assert.equal(hashAfter, hashBefore, 'the password did not change');
    assert.deepEqual((await mailsFor(t, c.accountId)).filter((m) => m.template === 'password-changed'), []);
    assert.equal((await owner.get('/account')).statusCode, 200, 'the owner was not logged out');

    // The owner, who knows the password, changes it from another device once the delay is
    // over: every other session ends, the stolen one with them.
    t.clock.advance(61_000);
    const elsewhere = new Browser(t);
    elsewhere.ip = '203.0.113.99';
    await logIn(elsewhere, c);
    await elsewhere.get('/account/security');
    const changed = await elsewhere.post('/account/security/password', { method: 'password', current: c.password, password: 'the owner’s new passphrase', confirm: 'the owner’s new passphrase' });
    assert.equal(changed.statusCode, 303);
    const out = await thief.get('/account/security');
    assert.equal(out.statusCode, 303);
    assert.equal(out.headers.location, '/login');
  });
});
