import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setPasswordHash } from '../../src/accounts/credentials.ts';
import { argon2Hasher, type PasswordHasher } from '../../src/auth/methods/password.ts';
import { hashPassword } from '../../src/crypto/passwords.ts';
import { system } from '../../src/db/contexts.ts';
import { startFlow, verifyFlowCode } from '../support/flows.ts';
import { Browser, citizenWithPassword, logIn, type Citizen } from '../support/login.ts';
import { auditSince, auditSeq, flowRow, sessionsOf, storedHash } from '../support/rules-db.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * The owner resets (or changes) a phished password while the thief's login with the old one is
 * being checked: Argon2id runs outside any transaction, so the reset can commit between the
 * read of the hash and the creation of the login flow. That flow must not survive the reset,
 * and a rehash of the old password (the hash parameters changed since it was set) must never
 * land over the new one — both did before the login re-checked the hash under a row lock.
 */
class GatedHasher implements PasswordHasher {
  readonly inner = argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  /** Runs (once) between the next verification and its answer. */
  during: (() => Promise<void>) | null = null;
  hash(password: string): Promise<string> {
    return this.inner.hash(password);
  }
  async verify(stored: string, password: string): Promise<{ ok: boolean; needsRehash: boolean }> {
    const result = await this.inner.verify(stored, password);
    const during = this.during;
    this.during = null;
    if (during) await during();
    return result;
  }
}

const hasher = new GatedHasher();
const NEW = 'a brand new passphrase 42';

onEachBackend('login with the old password while it is reset', () => ({ hasher }), ({ t, tdb }) => {
  let ip = 0;
  const browser = (): Browser => {
    const b = new Browser(t);
    b.ip = `203.0.113.${++ip}`;
    return b;
  };

  /** A recovery by the owner, up to the new-password form; returns what posts it. */
  async function recoveryReady(c: Citizen): Promise<() => Promise<void>> {
    const owner = browser();
    const { flow } = await startFlow(owner, '/recover', { nir: c.nir });
    await owner.get(flow);
    await verifyFlowCode(owner, flow, c.accountId);
    await owner.get(flow);
    return async () => {
      const done = await owner.post(flow, { method: 'password', password: NEW, confirm: NEW });
      assert.equal(done.headers.location, '/login?done=password-reset');
    };
  }

  /** The owner, logged in, on the change-password form; returns what posts it. */
  async function changeReady(c: Citizen): Promise<() => Promise<void>> {
    const owner = browser();
    await logIn(owner, c);
    await owner.get('/account/security');
    return async () => {
      const done = await owner.post('/account/security/password', { method: 'password', current: c.password, password: NEW, confirm: NEW });
      assert.equal(done.statusCode, 303);
    };
  }

  const works = async (accountId: string, password: string): Promise<boolean> => (await hasher.inner.verify((await storedHash(tdb.db, accountId)) ?? '', password)).ok;

  for (const [how, ready] of [['recovery', recoveryReady], ['change of password', changeReady]] as const) {
    test(`${how} during the thief's password check: no flow, no session, the new password stays`, async () => {
      const c = await citizenWithPassword(t);
      const reset = await ready(c);
      const since = await auditSeq(tdb.db);
      const thief = browser();
      await thief.get('/login');
      hasher.during = reset;
      const res = await thief.post('/login', { method: 'password', nir: c.nir, password: c.password });
      assert.equal(hasher.during, null, 'the reset ran during the check');
      assert.equal(res.statusCode, 401, 'the old password, right when read, is refused once the reset committed');
      assert.ok(await works(c.accountId, NEW));
      assert.ok(!(await works(c.accountId, c.password)));
      const failed = (await auditSince(tdb.db, since)).filter((e) => e.type === 'login.password-failed');
      assert.deepEqual(failed.map((e) => e.payload.reason), ['changed-meanwhile']);
      const live = (await sessionsOf(tdb.db, c.accountId)).filter((s) => s.ended_at === null);
      assert.equal(live.length, how === 'recovery' ? 0 : 1, "only the owner's own session, if any");
    });

    test(`${how} during the check of a password due for rehash: the old one is not written back`, async () => {
      const c = await citizenWithPassword(t);
      // Set with earlier parameters: the next right login rehashes it with the current ones.
      const earlier = await hashPassword(c.password, { memoryCost: 2048, timeCost: 1, parallelism: 1 });
      await system(t.deps.db, 'test', (tx) => setPasswordHash(tx, t.deps.clock, c.accountId, earlier));
      const reset = await ready(c);
      const thief = browser();
      await thief.get('/login');
      hasher.during = reset;
      const res = await thief.post('/login', { method: 'password', nir: c.nir, password: c.password });
      assert.equal(res.statusCode, 401);
      assert.ok(await works(c.accountId, NEW), "the owner's new password works");
      assert.ok(!(await works(c.accountId, c.password)), 'the old one does not');
    });
  }

  test('a login that took the row first keeps its answer, and the reset that follows ends its flow', async () => {
    const c = await citizenWithPassword(t);
    const reset = await recoveryReady(c);
    const thief = browser();
    await thief.get('/login');
    const res = await thief.post('/login', { method: 'password', nir: c.nir, password: c.password });
    assert.equal(res.statusCode, 303);
    await reset();
    const flow = await flowRow(tdb.db, String(res.headers.location).slice('/login/'.length));
    assert.notEqual(flow?.ended_at, null);
    assert.equal((await thief.get(String(res.headers.location))).statusCode, 410);
  });
});
