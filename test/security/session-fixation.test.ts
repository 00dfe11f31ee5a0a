import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { SESSION_COOKIE } from '../../src/auth/session-plugin.ts';
import { system } from '../../src/db/contexts.ts';
import { Browser, citizenWithPassword, lastCode, logIn, submitPassword } from '../support/login.ts';
import { sessionsOf } from '../support/rules-db.ts';
import { useApp } from '../support/suites.ts';

/**
 * Session fixation: the attacker sets a session cookie in the victim's browser (a shared
 * computer, a subdomain, a crafted link) and waits for the victim to log in with it, to ride
 * the authenticated session. A login always issues a new token; the planted one never becomes
 * the victim's; a token is dead once logged out.
 */
const { t, tdb } = useApp();

const tokenHash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

async function sessionWithHash(token: string): Promise<{ account_id: string; ended_at: Date | null } | undefined> {
  return system(tdb.db, 'test', async (tx) => {
    const { rows } = await tx.query<{ account_id: string; ended_at: Date | null }>(`SELECT account_id, ended_at FROM sessions WHERE token_hash = $1`, [tokenHash(token)]);
    return rows[0];
  });
}

/** The name shown on /account for a cookie jar, or the redirect. */
async function whoIs(b: Browser): Promise<string> {
  const res = await b.get('/account');
  if (res.statusCode !== 200) return `${res.statusCode} → ${String(res.headers.location)}`;
  return /<p class="fr-text--lead" id="account-name">([^<]*)<\/p>/.exec(res.body)?.[1] ?? 'no name on the page';
}

describe('a session cookie planted before login', () => {
  test('a made-up token: the login issues another one, and the made-up one is no session', async () => {
    const victim = await citizenWithPassword(t);
    const b = new Browser(t);
    const planted = randomBytes(32).toString('base64url');
    b.jar.set(SESSION_COOKIE, planted);
    await logIn(b, victim);
    const after = b.jar.get(SESSION_COOKIE);
    assert.ok(after);
    assert.notEqual(after, planted);
    assert.equal(await sessionWithHash(planted), undefined);
    assert.equal((await sessionWithHash(after))?.account_id, victim.accountId);
  });

  test('the attacker’s own live session planted in the victim’s browser: the victim’s login replaces and ends it, the planted token never becomes the victim’s', async () => {
    const attacker = await citizenWithPassword(t, { identity: { givenNames: 'Mallory', familyName: 'Attaquant' } });
    const victim = await citizenWithPassword(t, { identity: { givenNames: 'Alice', familyName: 'Victime' } });
    const attackerBrowser = new Browser(t);
    await logIn(attackerBrowser, attacker);
    const planted = attackerBrowser.jar.get(SESSION_COOKIE);
    assert.ok(planted);

    const b = new Browser(t);
    b.jar.set(SESSION_COOKIE, planted);
    assert.equal(await whoIs(b), 'Mallory Attaquant', 'the planted session is the attacker’s');
    // The victim logs in from there (GET /login would go to /account: post the form from that page).
    const page = b.lastPage;
    const pwd = await b.post('/login', { method: 'password', nir: victim.nir, password: victim.password }, page);
    assert.equal(pwd.statusCode, 303);
    const flow = String(pwd.headers.location);
    t.clock.advance(1000);
    await b.post(`${flow}/send`, { method: 'email-code' }, (await b.get(flow)).body);
    await b.get(flow);
    assert.equal((await b.post(flow, { method: 'email-code', code: await lastCode(t, victim.accountId) })).statusCode, 303);

    const fresh = b.jar.get(SESSION_COOKIE);
    assert.ok(fresh);
    assert.notEqual(fresh, planted, 'a new token for the victim');
    assert.equal(await whoIs(b), 'Alice Victime');
    assert.equal((await sessionWithHash(planted))?.account_id, attacker.accountId, 'the planted token never became the victim’s');
    // A login ends the session the browser held before (finish.ts): the planted one is over,
    // and never showed anything of the victim's.
    assert.notEqual((await sessionWithHash(planted))?.ended_at ?? null, null, 'the planted session ended');
    assert.equal((await attackerBrowser.get('/account')).statusCode, 303);
  });

  test('a token planted between the password and the code steps does not survive into the session', async () => {
    const victim = await citizenWithPassword(t);
    const b = new Browser(t);
    const flow = await submitPassword(b, victim);
    const planted = randomBytes(32).toString('base64url');
    b.jar.set(SESSION_COOKIE, planted);
    t.clock.advance(1000);
    await b.post(`${flow}/send`, { method: 'email-code' });
    await b.get(flow);
    assert.equal((await b.post(flow, { method: 'email-code', code: await lastCode(t, victim.accountId) })).statusCode, 303);
    assert.notEqual(b.jar.get(SESSION_COOKIE), planted);
    const [session] = await sessionsOf(tdb.db, victim.accountId);
    assert.ok(session);
    assert.ok(!Buffer.from(session.token_hash).equals(tokenHash(planted)));
    assert.equal(await sessionWithHash(planted), undefined);
  });
});

describe('a token after logout', () => {
  test('is dead: brought back, it opens nothing; the session row says logout', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const old = b.jar.get(SESSION_COOKIE);
    assert.ok(old);
    assert.equal((await b.post('/logout', {}, (await b.get('/account')).body)).statusCode, 303);
    assert.equal(b.jar.get(SESSION_COOKIE), undefined, 'the browser was told to forget it');

    const thief = new Browser(t);
    thief.jar.set(SESSION_COOKIE, old);
    const res = await thief.get('/account');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/login');
    t.clock.advance(60_000);
    assert.equal((await thief.get('/account')).statusCode, 303, 'still dead later');
    const row = await sessionWithHash(old);
    assert.ok(row?.ended_at);
    assert.equal((await sessionsOf(tdb.db, c.accountId))[0]?.end_reason, 'logout');
  });

  test('logging in again after logout issues a new token; the old one stays dead', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const old = b.jar.get(SESSION_COOKIE);
    await b.post('/logout', {}, (await b.get('/account')).body);
    await logIn(b, c);
    const fresh = b.jar.get(SESSION_COOKIE);
    assert.ok(old && fresh);
    assert.notEqual(fresh, old);
    const thief = new Browser(t);
    thief.jar.set(SESSION_COOKIE, old);
    assert.equal((await thief.get('/account')).statusCode, 303);
    assert.equal((await b.get('/account')).statusCode, 200);
  });
});
