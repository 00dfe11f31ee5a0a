import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nirIndex } from '../../src/accounts/accounts.ts';
import { DEFAULT_AUTH_POLICY, authPolicyFromEnv, type AuthPolicy } from '../../src/auth/policy.ts';
import { accountDelaySeconds, beginAttempt, clearAccountThrottle, clientKey, type ThrottleVerdict } from '../../src/auth/throttle.ts';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import type { TestApp } from '../support/app.ts';
import { uniqueNir } from '../support/fixtures.ts';
import { citizenWithPassword } from '../support/login.ts';
import { auditSeq, auditSince, clientFailures, throttleOf } from '../support/rules-db.ts';
import { countedApp, type CountingHasher } from '../support/rules-hasher.ts';
import { attemptLogin, freshIp } from '../support/rules-login.ts';

/**
 * Password throttling, kept in the database: free failures, then a doubling delay capped at
 * 15 minutes, a recovery requirement after 100 consecutive failures, a per-client cap across
 * accounts; a throttled attempt costs no hash; success resets; unknown NIRs alike.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;

let db: OpenDatabase;
before(async () => {
  db = await openDatabase({ migrate: true });
});
after(() => db.close());

async function withApp(env: Record<string, string>, fn: (t: TestApp, hasher: CountingHasher, clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock();
  const { t, hasher } = await countedApp({ db, clock, env });
  try {
    await fn(t, hasher, clock);
  } finally {
    await t.close();
  }
}

const policyFrom = (env: Record<string, string>): AuthPolicy => {
  const r = authPolicyFromEnv(env);
  if (!('policy' in r)) throw new Error(`${r.variable}: ${r.message}`);
  return r.policy;
};

describe('the delay schedule (accountDelaySeconds)', () => {
  test('defaults: 5 free failures, then 30 s, 60 s, 120 s … capped at 15 min, recovery after 100, 50 per client per 15 min', () => {
    const p = DEFAULT_AUTH_POLICY;
    assert.deepEqual(
      { free: p.accountFreeFailures, base: p.accountBaseDelay, max: p.accountMaxDelay, recovery: p.accountRecoveryAfter, ip: p.ipMaxFailures, window: p.ipWindow },
      { free: 5, base: 30, max: 900, recovery: 100, ip: 50, window: 900 },
    );
    assert.deepEqual(loadConfig({ SESAME_ENV: 'development' }).auth, DEFAULT_AUTH_POLICY, 'an empty environment gives the defaults');
    const schedule = Array.from({ length: 12 }, (_, i) => accountDelaySeconds(p, i + 1));
    assert.deepEqual(schedule, [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]);
    for (const n of [50, 99, 100, 1_000, 1_000_000]) assert.equal(accountDelaySeconds(p, n), 900, `after ${n} failures`);
  });

  test('overrides: SESAME_THROTTLE_FREE_FAILURES=3, _BASE_DELAY_SECONDS=10, _MAX_DELAY_SECONDS=60', () => {
    const p = policyFrom({ SESAME_THROTTLE_FREE_FAILURES: '3', SESAME_THROTTLE_BASE_DELAY_SECONDS: '10', SESAME_THROTTLE_MAX_DELAY_SECONDS: '60' });
    assert.deepEqual(Array.from({ length: 8 }, (_, i) => accountDelaySeconds(p, i + 1)), [0, 0, 10, 20, 40, 60, 60, 60]);
  });

  test('the other throttle variables are read too', () => {
    const p = policyFrom({ SESAME_THROTTLE_RECOVERY_AFTER: '7', SESAME_THROTTLE_IP_MAX_FAILURES: '9', SESAME_THROTTLE_IP_WINDOW_SECONDS: '120' });
    assert.deepEqual([p.accountRecoveryAfter, p.ipMaxFailures, p.ipWindow], [7, 9, 120]);
    assert.deepEqual(authPolicyFromEnv({ SESAME_THROTTLE_RECOVERY_AFTER: '0' }), { variable: 'SESAME_THROTTLE_RECOVERY_AFTER', message: 'must be a whole number from 1' });
  });
});

describe('account throttle, in the database (domain level)', () => {
  const ring = KeyRing.generate('kek-throttle');
  /** One password attempt as the login counts it, before any hash, from its own client address. */
  async function attempt(clock: ManualClock, policy: AuthPolicy, subject: Buffer, ip = freshIp()): Promise<ThrottleVerdict> {
    return system(db, 'test', (tx) => beginAttempt(tx, clock, policy, subject, clientKey(ring.macKey, ip)));
  }

  test('default policy: every failure is allowed again after at most 15 minutes, until the 100th; the 101st attempt needs recovery, however late', async () => {
    const clock = new ManualClock();
    const policy = DEFAULT_AUTH_POLICY;
    const subject = nirIndex(ring, uniqueNir());
    for (let n = 1; n <= 100; n++) {
      assert.deepEqual(await attempt(clock, policy, subject), { ok: true }, `failure ${n} is allowed`);
      const delay = accountDelaySeconds(policy, n);
      assert.ok(delay <= 15 * 60);
      if (delay === 0 || n === 100) continue;
      clock.advance(delay * SECOND - SECOND);
      const early = await attempt(clock, policy, subject);
      assert.deepEqual(early, { ok: false, reason: 'account-delay', retryAt: new Date(clock.now().getTime() + SECOND) }, `1 s before the end of delay ${n}`);
      clock.advance(SECOND);
    }
    assert.deepEqual(await attempt(clock, policy, subject), { ok: false, reason: 'recovery-required' });
    clock.advance(365 * 24 * 60 * MINUTE);
    assert.deepEqual(await attempt(clock, policy, subject), { ok: false, reason: 'recovery-required' }, 'a year later still');
    await system(db, 'test', (tx) => clearAccountThrottle(tx, subject));
    assert.deepEqual(await attempt(clock, policy, subject), { ok: true }, 'after recovery the account may try again');
  });

  test('default policy: 50 failures from one client across 50 NIRs, then the client is refused until its 15-minute window ends', async () => {
    const clock = new ManualClock();
    const policy = DEFAULT_AUTH_POLICY;
    const ip = freshIp();
    const t0 = clock.now().getTime();
    for (let i = 0; i < 50; i++) {
      assert.deepEqual(await attempt(clock, policy, nirIndex(ring, uniqueNir()), ip), { ok: true }, `NIR ${i + 1}`);
      clock.advance(10 * SECOND);
    }
    assert.deepEqual(await attempt(clock, policy, nirIndex(ring, uniqueNir()), ip), { ok: false, reason: 'client', retryAt: new Date(t0 + 15 * MINUTE) });
    assert.deepEqual(await attempt(clock, policy, nirIndex(ring, uniqueNir())), { ok: true }, 'another client is not concerned');
    clock.set(new Date(t0 + 15 * MINUTE));
    assert.deepEqual(await attempt(clock, policy, nirIndex(ring, uniqueNir()), ip), { ok: true }, 'a new window');
  });
});

describe('account throttle over HTTP, with the hashes counted', () => {
  test('5 wrong passwords are checked; the 6th attempt, right password included, is refused for 30 s without hashing; then 60 s', async () => {
    await withApp({}, async (t, hasher, clock) => {
      const c = await citizenWithPassword(t);
      for (let i = 1; i <= 5; i++) assert.equal((await attemptLogin(t, { nir: c.nir, password: `wrong ${i}`, ip: freshIp() })).status, 401);
      assert.deepEqual(hasher.snapshot(), { hashes: 0, verifies: 5 });
      assert.deepEqual({ ...(await throttleOf(t.deps, c.nir)) }, { consecutive_failures: 5, blocked_until: new Date(clock.now().getTime() + 30 * SECOND) });

      const refused = await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() });
      assert.equal(refused.status, 429);
      assert.equal(refused.retryAfter, 30);
      assert.match(refused.alert ?? '', /Trop de tentatives[\s\S]*suspendues jusqu’à 10:00/);
      clock.advance(29 * SECOND);
      const stillRefused = await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() });
      assert.equal(stillRefused.status, 429);
      assert.equal(stillRefused.retryAfter, 1);
      assert.deepEqual(hasher.snapshot(), { hashes: 0, verifies: 5 }, 'no hash computed for a throttled attempt');

      clock.advance(SECOND);
      assert.equal((await attemptLogin(t, { nir: c.nir, password: 'wrong 6', ip: freshIp() })).status, 401);
      assert.equal(hasher.verifies, 6);
      clock.advance(59 * SECOND);
      assert.equal((await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() })).retryAfter, 1, 'the 6th failure costs 60 s');
      clock.advance(SECOND);
      const ok = await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() });
      assert.equal(ok.status, 303);
      assert.equal(await throttleOf(t.deps, c.nir), undefined, 'success resets the account counter');
    });
  });

  test('many throttled attempts cost no hash at all, and are audited as login.throttled', async () => {
    await withApp({}, async (t, hasher) => {
      const c = await citizenWithPassword(t);
      for (let i = 1; i <= 5; i++) await attemptLogin(t, { nir: c.nir, password: `wrong ${i}`, ip: freshIp() });
      const before = hasher.snapshot();
      const seq = await auditSeq(db);
      for (let i = 0; i < 10; i++) assert.equal((await attemptLogin(t, { nir: c.nir, password: i % 2 ? c.password : 'guess', ip: freshIp() })).status, 429);
      assert.deepEqual(hasher.snapshot(), before);
      const events = await auditSince(db, seq);
      assert.deepEqual(events.map((e) => [e.type, e.payload.reason]), Array.from({ length: 10 }, () => ['login.throttled', 'account-delay']));
    });
  });

  test('a successful password resets the account counter (and the client is not blamed for it)', async () => {
    await withApp({}, async (t, hasher) => {
      const c = await citizenWithPassword(t);
      const ip = freshIp();
      for (let i = 1; i <= 4; i++) assert.equal((await attemptLogin(t, { nir: c.nir, password: `wrong ${i}`, ip })).status, 401);
      assert.equal((await throttleOf(t.deps, c.nir))?.consecutive_failures, 4);
      assert.equal((await attemptLogin(t, { nir: c.nir, password: c.password, ip })).status, 303);
      assert.equal(await throttleOf(t.deps, c.nir), undefined);
      assert.equal(await clientFailures(t.deps, ip), 4, 'the success is not counted against the client');
      // Five more free failures, not one.
      for (let i = 1; i <= 5; i++) assert.equal((await attemptLogin(t, { nir: c.nir, password: `again ${i}`, ip: freshIp() })).status, 401, `failure ${i} after the reset`);
      assert.equal((await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() })).status, 429);
      assert.equal(hasher.verifies, 10);
    });
  });

  test('an unknown NIR is throttled exactly like a known one (same answers, same delays, same counters, same hashes)', async () => {
    await withApp({}, async (t, hasher, clock) => {
      const c = await citizenWithPassword(t);
      const unknown = uniqueNir();
      // Warm the dummy hash an unknown NIR is checked against, made once per process.
      await attemptLogin(t, { nir: uniqueNir(), password: 'warm up', ip: freshIp() });
      const trace = async (nir: string) => {
        const out: unknown[] = [];
        const start = hasher.snapshot();
        const t0 = clock.now().getTime();
        for (const wait of [0, 0, 0, 0, 0, 0, 29, 1, 0, 59, 1]) {
          clock.advance(wait * SECOND);
          const a = await attemptLogin(t, { nir, password: 'not the password', ip: freshIp() });
          out.push([a.status, a.retryAfter, a.alert]);
        }
        const row = await throttleOf(t.deps, nir);
        out.push(row?.consecutive_failures, (row?.blocked_until?.getTime() ?? 0) - t0);
        out.push(hasher.verifies - start.verifies, hasher.hashes - start.hashes);
        clock.set(new Date(t0)); // the second run replays the same times
        return out;
      };
      const known = await trace(c.nir);
      assert.deepEqual(known.slice(0, 6).map((x) => (x as unknown[])[0]), [401, 401, 401, 401, 401, 429]);
      assert.deepEqual(await trace(unknown), known);
    });
  });

  test('SESAME_THROTTLE_FREE_FAILURES=2, _BASE_DELAY_SECONDS=10, _MAX_DELAY_SECONDS=20: delays of 10 s then 20 s, capped', async () => {
    await withApp({ SESAME_THROTTLE_FREE_FAILURES: '2', SESAME_THROTTLE_BASE_DELAY_SECONDS: '10', SESAME_THROTTLE_MAX_DELAY_SECONDS: '20' }, async (t, hasher, clock) => {
      const c = await citizenWithPassword(t);
      const statuses: [number, number | undefined][] = [];
      for (const wait of [0, 0, 0, 9, 1, 0, 19, 1, 0, 19, 1]) {
        clock.advance(wait * SECOND);
        const a = await attemptLogin(t, { nir: c.nir, password: 'wrong', ip: freshIp() });
        statuses.push([a.status, a.retryAfter]);
      }
      assert.deepEqual(statuses, [
        [401, undefined],
        [401, undefined], // 2nd failure: 10 s
        [429, 10],
        [429, 1],
        [401, undefined], // 3rd failure: 20 s
        [429, 20],
        [429, 1],
        [401, undefined], // 4th failure: 40 s, capped at 20
        [429, 20],
        [429, 1],
        [401, undefined],
      ]);
      assert.equal(hasher.verifies, 5);
    });
  });
});

describe('recovery after too many failures', () => {
  test('SESAME_THROTTLE_RECOVERY_AFTER=3: after 3 failures the right password no longer works, days later neither, until recovery', async () => {
    await withApp({ SESAME_THROTTLE_RECOVERY_AFTER: '3' }, async (t, hasher, clock) => {
      const c = await citizenWithPassword(t);
      for (let i = 1; i <= 3; i++) assert.equal((await attemptLogin(t, { nir: c.nir, password: `wrong ${i}`, ip: freshIp() })).status, 401);
      const seq = await auditSeq(db);
      const refused = await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() });
      assert.equal(refused.status, 429);
      assert.equal(refused.retryAfter, undefined, 'no time to come back: waiting does not help');
      assert.match(refused.alert ?? '', /ne peut plus être utilisé avec son mot de passe actuel/);
      assert.deepEqual((await auditSince(db, seq)).map((e) => [e.type, e.payload.reason]), [['login.throttled', 'recovery-required']]);
      clock.advance(30 * 24 * 60 * MINUTE);
      assert.equal((await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() })).status, 429);
      assert.equal(hasher.verifies, 3, 'the password was not even checked');

      const parsed = nirIndex(t.deps.ring, c.nir);
      await system(db, 'test', (tx) => clearAccountThrottle(tx, parsed));
      assert.equal((await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() })).status, 303);
    });
  });
});

describe('client throttle (across accounts)', () => {
  test('SESAME_THROTTLE_IP_MAX_FAILURES=4: one address, 4 failures on 4 NIRs (malformed included), then refused even with right credentials; others are not', async () => {
    await withApp({ SESAME_THROTTLE_IP_MAX_FAILURES: '4' }, async (t, hasher, clock) => {
      const c = await citizenWithPassword(t);
      const victim = await citizenWithPassword(t);
      const ip = freshIp();
      const t0 = clock.now().getTime();
      for (const nir of [uniqueNir(), victim.nir, '123', uniqueNir()]) {
        assert.equal((await attemptLogin(t, { nir, password: 'guess', ip })).status, 401);
        clock.advance(10 * SECOND);
      }
      const verifies = hasher.verifies;
      const capped = await attemptLogin(t, { nir: c.nir, password: c.password, ip });
      assert.equal(capped.status, 429);
      assert.equal(capped.retryAfter, 15 * 60 - 40);
      assert.equal(hasher.verifies, verifies, 'no hash for a capped client');
      assert.equal(await throttleOf(t.deps, c.nir), undefined, 'nor is the account blamed for it');
      assert.equal((await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() })).status, 303, 'another address logs in');
      clock.set(new Date(t0 + 15 * MINUTE));
      assert.equal((await attemptLogin(t, { nir: c.nir, password: c.password, ip })).status, 303, 'the window is over');
    });
  });

  test('SESAME_THROTTLE_IP_WINDOW_SECONDS=60: the cap lifts after 60 s', async () => {
    await withApp({ SESAME_THROTTLE_IP_MAX_FAILURES: '2', SESAME_THROTTLE_IP_WINDOW_SECONDS: '60' }, async (t, _hasher, clock) => {
      const ip = freshIp();
      await attemptLogin(t, { nir: uniqueNir(), password: 'guess', ip });
      await attemptLogin(t, { nir: uniqueNir(), password: 'guess', ip });
      clock.advance(59 * SECOND);
      const capped = await attemptLogin(t, { nir: uniqueNir(), password: 'guess', ip });
      assert.deepEqual([capped.status, capped.retryAfter], [429, 1]);
      clock.advance(SECOND);
      assert.equal((await attemptLogin(t, { nir: uniqueNir(), password: 'guess', ip })).status, 401);
    });
  });

  test('IPv6 addresses of one /64 share a counter', async () => {
    await withApp({ SESAME_THROTTLE_IP_MAX_FAILURES: '2' }, async (t) => {
      assert.equal((await attemptLogin(t, { nir: uniqueNir(), password: 'guess', ip: '2001:db8:1:2::1' })).status, 401);
      assert.equal((await attemptLogin(t, { nir: uniqueNir(), password: 'guess', ip: '2001:db8:1:2:aaaa:bbbb:cccc:dddd' })).status, 401);
      assert.equal((await attemptLogin(t, { nir: uniqueNir(), password: 'guess', ip: '2001:0db8:0001:0002:ffff::9' })).status, 429);
      assert.equal((await attemptLogin(t, { nir: uniqueNir(), password: 'guess', ip: '2001:db8:1:3::1' })).status, 401, 'another /64');
    });
  });
});
