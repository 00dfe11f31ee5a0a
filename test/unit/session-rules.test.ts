import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountCipher } from '../../src/accounts/account-keys.ts';
import { SESSION_COOKIE } from '../../src/auth/session-plugin.ts';
import { ManualClock } from '../../src/clock.ts';
import { system } from '../../src/db/contexts.ts';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { Browser, citizenWithPassword, lastCode, logIn, submitPassword, type Citizen } from '../support/login.ts';
import { auditSeq, auditSince, sessionsOf } from '../support/rules-db.ts';

/**
 * Sessions: a 256-bit token in a __Host- cookie, only a hash of it stored, a new one at every
 * login, 30 minutes idle and 12 hours absolute (both overridable), and what a session records.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

let db: OpenDatabase;
before(async () => {
  db = await openDatabase({ migrate: true });
});
after(() => db.close());

async function withApp(env: Record<string, string>, fn: (t: TestApp, clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock();
  const t = await testApp({ db, clock, env });
  try {
    await fn(t, clock);
  } finally {
    await t.close();
  }
}

/** A browser logged in to a new account. */
async function loggedIn(t: TestApp): Promise<{ b: Browser; c: Citizen; token: string }> {
  const c = await citizenWithPassword(t);
  const b = new Browser(t);
  await logIn(b, c);
  const token = b.jar.get(SESSION_COOKIE);
  assert.ok(token);
  return { b, c, token };
}

/** When the account's (only) session was last used, in ms. */
async function lastSeen(accountId: string): Promise<number> {
  const rows = await sessionsOf(db, accountId);
  assert.equal(rows.length, 1);
  return rows[0]?.last_seen_at.getTime() ?? 0;
}

async function endedEvents(since: number, accountId: string): Promise<unknown[]> {
  return (await auditSince(db, since)).filter((e) => e.type === 'session.ended' && e.accountId === accountId).map((e) => e.payload);
}

describe('the session cookie and token', () => {
  test('a 256-bit random token in __Host-sesame-session: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain, Max-Age 12 h', async () => {
    await withApp({}, async (t) => {
      const c = await citizenWithPassword(t);
      const b = new Browser(t);
      const res = await logIn(b, c);
      const header = [res.headers['set-cookie']].flat().find((h) => h?.startsWith(`${SESSION_COOKIE}=`));
      assert.ok(header, 'the session cookie is set by the code step');
      const value = /^__Host-sesame-session=([^;]*);/.exec(header)?.[1] ?? '';
      assert.match(value, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(Buffer.from(value, 'base64url').length, 32, '32 bytes = 256 bits');
      for (const attr of [/; Secure/, /; HttpOnly/, /; SameSite=Lax/, /; Path=\/(;|$)/, /; Max-Age=43200(;|$)/]) assert.match(header, attr);
      assert.doesNotMatch(header, /Domain=/i);
    });
  });

  test('stored hashed: neither the sessions table nor the audit log holds the cookie value', async () => {
    await withApp({}, async (t) => {
      const seq = await auditSeq(db);
      const { c, token } = await loggedIn(t);
      const [row] = await sessionsOf(db, c.accountId);
      assert.ok(row);
      const raw = Buffer.from(token, 'base64url');
      assert.equal(Buffer.from(row.token_hash).length, 32);
      assert.ok(!Buffer.from(row.token_hash).equals(raw), 'not the token bytes');
      for (const form of [token, raw.toString('hex'), raw.toString('base64')]) {
        assert.ok(!row.json.includes(form), `the session row holds no ${form === token ? 'cookie value' : 'encoding of the token'}`);
        for (const e of await auditSince(db, seq)) assert.ok(!e.json.includes(form), `audit ${e.type}`);
      }
    });
  });

  test('a new token at every login, logged out or not, and each login is its own session', async () => {
    await withApp({}, async (t, clock) => {
      const { b, c, token: first } = await loggedIn(t);
      clock.advance(MINUTE);
      await logIn(b, c);
      const second = b.jar.get(SESSION_COOKIE);
      await b.post('/logout', {}, (await b.get('/account')).body);
      clock.advance(MINUTE);
      await logIn(b, c);
      const third = b.jar.get(SESSION_COOKIE);
      assert.equal(new Set([first, second, third]).size, 3);
      const rows = await sessionsOf(db, c.accountId);
      assert.equal(rows.length, 3);
      assert.equal(new Set(rows.map((r) => Buffer.from(r.token_hash).toString('hex'))).size, 3);
    });
  });
});

describe('what a session records', () => {
  test('level eidas1, amr ["mail","pwd"], the time of authentication, expiry 12 h on, and the client encrypted', async () => {
    await withApp({}, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const b = new Browser(t);
      b.ip = '192.0.2.77';
      b.userAgent = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 SesameTest/4242';
      const flow = await submitPassword(b, c);
      clock.advance(2 * MINUTE);
      await b.post(`${flow}/send`, { method: 'email-code' });
      await b.get(flow);
      clock.advance(3 * MINUTE);
      const codeAt = clock.now();
      const done = await b.post(flow, { method: 'email-code', code: await lastCode(t, c.accountId) });
      assert.equal(done.statusCode, 303);

      const [row] = await sessionsOf(db, c.accountId);
      assert.ok(row);
      assert.equal(row.level, 'eidas1');
      assert.deepEqual(row.amr, ['mail', 'pwd']);
      assert.equal(row.auth_time.getTime(), codeAt.getTime(), 'authenticated when the second step completed');
      assert.equal(row.created_at.getTime(), codeAt.getTime());
      assert.equal(row.expires_at.getTime(), codeAt.getTime() + 12 * HOUR);
      assert.equal(row.ended_at, null);

      const client = Buffer.from(row.client);
      for (const clear of [b.ip, 'SesameTest/4242', 'Chrome']) {
        assert.ok(!client.includes(Buffer.from(clear)), `${clear} not in clear in the column`);
        assert.ok(!row.json.includes(clear), `${clear} not in clear in the row`);
      }
      const decrypted = await system(db, 'test', async (tx) => (await accountCipher(tx, t.deps.ring, c.accountId))?.decryptJson(`session:${row.id}`, client));
      assert.deepEqual(decrypted, { ip: b.ip, userAgent: b.userAgent });
    });
  });
});

describe('idle and absolute limits', () => {
  test('idle 30 min: used at 29:59 it lives on; untouched for 30:00 it is ended, audited with reason idle, and the cookie is cleared', async () => {
    await withApp({}, async (t, clock) => {
      const one = await loggedIn(t);
      const two = await loggedIn(t);
      const seq = await auditSeq(db);
      const oneSeen = await lastSeen(one.c.accountId);
      const twoSeen = await lastSeen(two.c.accountId);
      clock.set(new Date(oneSeen + 29 * MINUTE + 59 * SECOND));
      assert.equal((await one.b.get('/account')).statusCode, 200);
      clock.set(new Date(twoSeen + 30 * MINUTE));
      assert.ok(clock.now().getTime() < oneSeen + 29 * MINUTE + 59 * SECOND + 30 * MINUTE);
      const gone = await two.b.get('/account');
      assert.equal(gone.statusCode, 303);
      assert.equal(gone.headers.location, '/login');
      assert.equal(two.b.jar.get(SESSION_COOKIE), undefined, 'the cookie is cleared');
      assert.equal((await one.b.get('/account')).statusCode, 200, 'the session used at 29:59 is alive at 30:00');

      const [row] = await sessionsOf(db, two.c.accountId);
      assert.equal(row?.end_reason, 'idle');
      assert.equal(row?.ended_at?.getTime(), clock.now().getTime());
      assert.deepEqual(await endedEvents(seq, two.c.accountId), [{ sessionId: row?.id, reason: 'idle' }]);
      assert.deepEqual(await endedEvents(seq, one.c.accountId), []);

      // An ended session stays ended, even with the old cookie brought back.
      two.b.jar.set(SESSION_COOKIE, two.token);
      assert.equal((await two.b.get('/account')).statusCode, 303);
      clock.set(new Date(oneSeen + 2 * (29 * MINUTE + 59 * SECOND)));
      assert.equal((await one.b.get('/account')).statusCode, 200, 'idle counts from the last use (at 29:59)');
    });
  });

  test('absolute 12 h even when used every few minutes: alive at 11:59:59, ended at 12:00 with reason expired', async () => {
    await withApp({}, async (t, clock) => {
      const { b, c } = await loggedIn(t);
      const seq = await auditSeq(db);
      const start = clock.now().getTime();
      while (clock.now().getTime() + 20 * MINUTE < start + 12 * HOUR) {
        clock.advance(20 * MINUTE);
        assert.equal((await b.get('/account')).statusCode, 200, `at +${(clock.now().getTime() - start) / MINUTE} min`);
      }
      clock.set(new Date(start + 12 * HOUR - SECOND));
      assert.equal((await b.get('/account')).statusCode, 200);
      clock.advance(SECOND);
      assert.equal((await b.get('/account')).statusCode, 303);
      const [row] = await sessionsOf(db, c.accountId);
      assert.equal(row?.end_reason, 'expired');
      assert.deepEqual(await endedEvents(seq, c.accountId), [{ sessionId: row?.id, reason: 'expired' }]);
    });
  });

  test('logout ends the session: audited with reason logout', async () => {
    await withApp({}, async (t) => {
      const { b, c } = await loggedIn(t);
      const seq = await auditSeq(db);
      const out = await b.post('/logout', {}, (await b.get('/account')).body);
      assert.equal(out.statusCode, 303);
      const [row] = await sessionsOf(db, c.accountId);
      assert.equal(row?.end_reason, 'logout');
      assert.deepEqual(await endedEvents(seq, c.accountId), [{ sessionId: row?.id, reason: 'logout' }]);
    });
  });

  test('SESAME_SESSION_IDLE_SECONDS=300: alive at 4:59, ended at 5:00', async () => {
    await withApp({ SESAME_SESSION_IDLE_SECONDS: '300' }, async (t, clock) => {
      const one = await loggedIn(t);
      const two = await loggedIn(t);
      clock.set(new Date((await lastSeen(one.c.accountId)) + 299 * SECOND));
      assert.equal((await one.b.get('/account')).statusCode, 200);
      clock.set(new Date((await lastSeen(two.c.accountId)) + 300 * SECOND));
      assert.equal((await two.b.get('/account')).statusCode, 303);
      assert.equal((await sessionsOf(db, two.c.accountId))[0]?.end_reason, 'idle');
    });
  });

  test('SESAME_SESSION_ABSOLUTE_SECONDS=3600: cookie Max-Age 3600, ended after one hour of use', async () => {
    await withApp({ SESAME_SESSION_ABSOLUTE_SECONDS: '3600' }, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const b = new Browser(t);
      const res = await logIn(b, c);
      const header = [res.headers['set-cookie']].flat().find((h) => h?.startsWith(`${SESSION_COOKIE}=`)) ?? '';
      assert.match(header, /; Max-Age=3600(;|$)/);
      for (let i = 0; i < 5; i++) {
        clock.advance(11 * MINUTE);
        assert.equal((await b.get('/account')).statusCode, 200);
      }
      clock.advance(4 * MINUTE + 59 * SECOND);
      assert.equal((await b.get('/account')).statusCode, 200, 'at 59:59');
      clock.advance(SECOND);
      assert.equal((await b.get('/account')).statusCode, 303);
      assert.equal((await sessionsOf(db, c.accountId))[0]?.end_reason, 'expired');
    });
  });
});
