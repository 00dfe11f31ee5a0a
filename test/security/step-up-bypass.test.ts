import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addAuthenticator, listAuthenticators } from '../../src/auth/authenticators.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn, type Citizen } from '../support/login.ts';
import type { TestApp } from '../support/app.ts';

/**
 * Sensitive operations need eidas2 from the last minutes. An eidas1 session (password + email
 * code) that calls such an endpoint directly is sent through a step-up and nothing changes;
 * the step-up cannot be finished with an email code, nor from another session.
 */
async function withAuthenticator(t: TestApp, c: Citizen): Promise<string> {
  return system(t.deps.db, 'test', async (tx) => {
    const added = await addAuthenticator(tx, { ring: t.deps.ring, clock: t.deps.clock, policy: t.deps.config.auth }, { accountId: c.accountId, kind: 'totp', name: 'Mon application', fromStrongSession: true, locale: 'fr', client: { browser: null, os: null } });
    return added.id;
  });
}

const stepUpLocation = /^\/step-up\/[0-9a-f-]{36}$/;

/** A citizen with one authenticator, logged in by password + email code (eidas1), on the security page. */
async function eidas1WithAuthenticator(t: TestApp): Promise<{ c: Citizen; id: string; b: Browser }> {
  const c = await citizenWithPassword(t);
  const id = await withAuthenticator(t, c);
  const b = new Browser(t);
  await logIn(b, c);
  await b.get('/account/security');
  return { c, id, b };
}

const remaining = (t: TestApp, c: Citizen) => citizen(t.deps.db, c.accountId, (tx) => listAuthenticators(tx, t.deps.ring, c.accountId));

onEachBackend('step-up bypass', ({ t }) => {
  test('removing an authenticator from an eidas1 session, by calling the endpoint directly: step-up asked, nothing removed', async () => {
    const { c, id, b } = await eidas1WithAuthenticator(t);
    const res = await b.post(`/account/security/authenticators/${id}/remove`, {});
    assert.equal(res.statusCode, 303);
    assert.match(String(res.headers.location), stepUpLocation);
    assert.deepEqual((await remaining(t, c)).map((a) => a.id), [id]);
    const level = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ level: string }>(`SELECT level FROM sessions WHERE account_id = $1 AND ended_at IS NULL`, [c.accountId])).rows[0]?.level);
    assert.equal(level, 'eidas1');
  });

  test('downgrade: a step-up offers no email code and refuses one (no /send, no code post, not through /login)', async () => {
    const { id, b } = await eidas1WithAuthenticator(t);
    const stepUp = String((await b.post(`/account/security/authenticators/${id}/remove`, {})).headers.location);
    const withToken = b.lastPage;
    const page = await b.get(stepUp);
    assert.equal(page.statusCode, 200);
    assert.doesNotMatch(page.body, /name="method" value="email-code"/);
    assert.equal((await b.post(`${stepUp}/send`, { method: 'email-code' }, withToken)).statusCode, 404);
    assert.equal((await b.post(stepUp, { method: 'email-code', code: '123456' }, withToken)).statusCode, 400);
    // The same flow id on the login's pages is another kind of flow: not found.
    const flowId = stepUp.slice('/step-up/'.length);
    assert.equal((await b.post(`/login/${flowId}`, { method: 'email-code', code: '123456' }, withToken)).statusCode, 404);
    assert.equal((await b.post(`/login/${flowId}/send`, { method: 'email-code' }, withToken)).statusCode, 404);
  });

  test('the password alone does not raise the session: the operation still asks for the second step', async () => {
    const { c, id, b } = await eidas1WithAuthenticator(t);
    const stepUp = String((await b.post(`/account/security/authenticators/${id}/remove`, {})).headers.location);
    await b.get(stepUp);
    const res = await b.post(stepUp, { method: 'password', password: c.password });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, stepUp);
    await b.get('/account/security');
    const again = await b.post(`/account/security/authenticators/${id}/remove`, {});
    assert.match(String(again.headers.location), stepUpLocation);
    assert.equal((await remaining(t, c)).length, 1);
  });

  test('a step-up flow belongs to its session: another session of the same citizen gets "not found"', async () => {
    const c = await citizenWithPassword(t);
    const id = await withAuthenticator(t, c);
    const first = new Browser(t);
    await logIn(first, c);
    await first.get('/account/security');
    const stepUp = String((await first.post(`/account/security/authenticators/${id}/remove`, {})).headers.location);
    const second = new Browser(t);
    await logIn(second, c);
    const withToken = (await second.get('/account/security')).body;
    assert.equal((await second.get(stepUp)).statusCode, 404);
    assert.equal((await second.post(stepUp, { method: 'password', password: c.password }, withToken)).statusCode, 404);
  });

  test('another account’s authenticator id: the same answer as an unknown one, and nothing changes', async () => {
    const owner = await citizenWithPassword(t);
    const victimAuthenticator = await withAuthenticator(t, owner);
    const attacker = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, attacker);
    // Even with eidas2 the id is not theirs: simulate a fresh strong session for the attacker.
    await system(t.deps.db, 'test', (tx) => tx.query(`UPDATE sessions SET level = 'eidas2', auth_time = $2 WHERE account_id = $1`, [attacker.accountId, t.clock.now()]));
    await b.get('/account/security');
    const res = await b.post(`/account/security/authenticators/${victimAuthenticator}/remove`, {});
    assert.equal(res.statusCode, 404);
    assert.equal((await remaining(t, owner)).length, 1);
  });
});
