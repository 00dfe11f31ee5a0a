import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addAuthenticator, listAuthenticators } from '../../src/auth/authenticators.ts';
import { SESSION_COOKIE } from '../../src/auth/session-plugin.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, logIn, mailsFor } from '../support/login.ts';
import { appCode, citizenWithApp } from '../support/totp.ts';

/**
 * Step-up: an eidas1 session asked for a sensitive operation goes through the password and
 * a strong second step, comes back with its form, and the operation happens. The session
 * is raised (level, amr, auth time) and falls back to asking after 5 minutes.
 */
onEachBackend('step-up', ({ t }) => {
  const sessionOf = (accountId: string) =>
    system(t.deps.db, 'test', async (tx) => (await tx.query<{ level: string; amr: string[]; auth_time: Date }>(`SELECT level, amr, auth_time FROM sessions WHERE account_id = $1 AND ended_at IS NULL ORDER BY created_at DESC LIMIT 1`, [accountId])).rows[0]);

  test('remove an authenticator from an eidas1 session: step-up by password + app, the form comes back, the removal happens and is mailed', async () => {
    const { c, secret } = await citizenWithApp(t);
    const spare = await system(t.deps.db, 'test', async (tx) =>
      (await addAuthenticator(tx, { ring: t.deps.ring, clock: t.deps.clock, policy: t.deps.config.auth }, { accountId: c.accountId, kind: 'passkey', name: 'Ancienne clé', fromStrongSession: true, locale: 'fr', client: { browser: null, os: null } })).id,
    );
    const b = new Browser(t);
    await logIn(b, c);
    assert.equal((await sessionOf(c.accountId))?.level, 'eidas1');
    await b.get('/account/security');
    const asked = await b.post(`/account/security/authenticators/${spare}/remove`, {});
    const stepUp = String(asked.headers.location);
    assert.match(stepUp, /^\/step-up\/[0-9a-f-]{36}$/);

    const cookieBefore = b.jar.get(SESSION_COOKIE);
    const first = await b.get(stepUp);
    assert.match(first.body, /id="step-up-password"/);
    assert.equal((await b.post(stepUp, { method: 'password', password: c.password })).headers.location, stepUp);
    const second = await b.get(stepUp);
    assert.match(second.body, new RegExp(`href="${stepUp}/totp"`));
    assert.doesNotMatch(second.body, /email-code/);
    await b.get(`${stepUp}/totp`);
    t.clock.advance(1000);
    const done = await b.post(`${stepUp}/totp`, { method: 'totp', code: appCode(secret, t.clock) });
    // The kept form comes back: same action, a fresh CSRF token, one button (and a script).
    assert.equal(done.statusCode, 200);
    assert.match(done.body, new RegExp(`<form method="post" action="/account/security/authenticators/${spare}/remove" id="kept-form" data-autosubmit>`));
    assert.match(done.body, /name="_csrf" value="[^"]+"/);
    assert.match(done.body, /autosubmit\.js/);

    // The raised session has a new token: a copy of the cookie taken before does not gain the level.
    assert.notEqual(b.jar.get(SESSION_COOKIE), cookieBefore);
    const copy = new Browser(t);
    copy.jar.set(SESSION_COOKIE, String(cookieBefore));
    assert.equal((await copy.get('/account')).statusCode, 303);
    const raised = await sessionOf(c.accountId);
    assert.equal(raised?.level, 'eidas2');
    assert.deepEqual(raised?.amr, ['mfa', 'otp', 'pwd']);
    assert.equal(raised?.auth_time.getTime(), t.clock.now().getTime());

    const removed = await b.post(`/account/security/authenticators/${spare}/remove`, {});
    assert.equal(removed.statusCode, 303);
    assert.equal(removed.headers.location, '/account/security?done=authenticator-removed');
    const left = await citizen(t.deps.db, c.accountId, (tx) => listAuthenticators(tx, t.deps.ring, c.accountId));
    assert.deepEqual(left.map((a) => a.kind), ['totp']);
    const mail = (await mailsFor(t, c.accountId)).find((m) => m.template === 'authenticator-changed');
    assert.equal(mail?.params.change, 'removed');
    assert.equal(mail?.params.kind, 'passkey');
    const audit = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ type: string }>(`SELECT type FROM audit_log WHERE account_id = $1 AND type LIKE 'step-up.%' ORDER BY seq`, [c.accountId])).rows.map((r) => r.type));
    assert.deepEqual(audit, ['step-up.required', 'step-up.completed']);
  });

  test('eidas2 counts 5 minutes: after that the same operation asks again', async () => {
    const { c, secret } = await citizenWithApp(t);
    const spare = await system(t.deps.db, 'test', async (tx) =>
      (await addAuthenticator(tx, { ring: t.deps.ring, clock: t.deps.clock, policy: t.deps.config.auth }, { accountId: c.accountId, kind: 'device', name: 'Vieux téléphone', fromStrongSession: true, locale: 'fr', client: { browser: null, os: null } })).id,
    );
    const b = new Browser(t);
    await logIn(b, c);
    await b.get('/account/security');
    const stepUp = String((await b.post(`/account/security/authenticators/${spare}/remove`, {})).headers.location);
    await b.get(stepUp);
    await b.post(stepUp, { method: 'password', password: c.password });
    await b.get(`${stepUp}/totp`);
    t.clock.advance(1000);
    assert.equal((await b.post(`${stepUp}/totp`, { method: 'totp', code: appCode(secret, t.clock) })).statusCode, 200);
    t.clock.advance(5 * 60 * 1000 + 1000);
    await b.get('/account/security');
    const again = await b.post(`/account/security/authenticators/${spare}/remove`, {});
    assert.match(String(again.headers.location), /^\/step-up\//);
  });

  test('an authenticator still cooling off cannot be used to step up: the page says from when', async () => {
    const { c } = await citizenWithApp(t);
    // As if the app had just been added from an eidas1 session: still cooling off for an hour.
    await system(t.deps.db, 'test', (tx) => tx.query(`UPDATE authenticators SET sensitive_from = $2 WHERE account_id = $1`, [c.accountId, new Date(t.clock.now().getTime() + 3600_000)]));
    const b = new Browser(t);
    await logIn(b, c);
    await b.get('/account/security');
    // Regenerating recovery codes is sensitive, and the only strong method is cooling off.
    const stepUp = String((await b.post('/account/security/recovery-codes', {})).headers.location);
    assert.match(stepUp, /^\/step-up\//);
    const page = await b.get(stepUp);
    assert.match(page.body, /ne permet les opérations sensibles qu’à partir du/);
    assert.doesNotMatch(page.body, /id="step-up-password"/);
  });
});
