import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAccount } from '../../src/accounts/accounts.ts';
import { system } from '../../src/db/contexts.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn, mailsFor } from '../support/login.ts';
import { citizenWithApp } from '../support/totp.ts';
import { forgedPost } from '../support/attack-requests.ts';

/**
 * Taking over an account by moving its email address: whoever has a password and a login code
 * (phished) moves the mail to their own address, and the owner stops hearing of anything. The
 * change needs eidas2 (or, without a strong method, a fresh code to the current address); the
 * new address must prove itself with its own code, which works once, a few times at most, in
 * this session and browser only, and never passes for anything else.
 */
onEachBackend('email change takeover', ({ t, tdb }) => {
  const emailOf = (accountId: string) => system(t.deps.db, 'test', async (tx) => (await readAccount(tx, t.deps.ring, accountId))?.contact.email);
  const attacker = 'attaquant@malveillant.example';
  const pendingRows = async (accountId: string) => Number((await tdb.superuser(`SELECT count(*)::int AS n FROM email_changes WHERE account_id = $1`, [accountId])).rows[0]?.n);

  /** A browser with a session whose email change for `to` is waiting for its code: the flow's URL and the code mailed. */
  async function waitingChange(to = attacker): Promise<{ b: Browser; flow: string; code: string; accountId: string; email: string }> {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    await b.get('/account/contact');
    const flow = String((await b.post('/account/contact/email', { email: to })).headers.location);
    assert.match(flow, /^\/account\/contact\/email\//);
    const code = (await mailsFor(t, c.accountId)).find((m) => m.template === 'contact-email-code')?.params.code;
    return { b, flow, code: String(code), accountId: c.accountId, email: c.email };
  }

  test('an eidas1 session on an account with a strong method is sent to the step-up: no code leaves, nothing is kept', async () => {
    const { c } = await citizenWithApp(t);
    const b = new Browser(t);
    await logIn(b, c);
    await b.get('/account/contact');
    const res = await b.post('/account/contact/email', { email: attacker });
    assert.equal(res.statusCode, 303);
    assert.match(String(res.headers.location), /^\/step-up\//);
    assert.ok(!(await mailsFor(t, c.accountId)).some((m) => m.to === attacker), 'nothing is sent to the new address');
    assert.equal(await pendingRows(c.accountId), 0);
    assert.equal(await emailOf(c.accountId), c.email);
  });

  test('the code goes to the new address only, and does not count as a fresh code of the current one on /confirm', async () => {
    const { b, flow, code, accountId, email } = await waitingChange();
    const mails = await mailsFor(t, accountId);
    assert.ok(mails.filter((m) => m.template === 'contact-email-code').every((m) => m.to === attacker));
    assert.ok(!mails.some((m) => m.to === email && m.template === 'contact-email-code'));
    const flowId = flow.slice(flow.lastIndexOf('/') + 1);
    // The email-change flow is a confirm flow of this session: its code is not a confirm code.
    await b.get(`/confirm/${flowId}`);
    const misuse = await b.post(`/confirm/${flowId}`, { method: 'email-code', code }, (await b.get(flow)).body);
    assert.equal(misuse.statusCode, 404);
    const audit = await tdb.superuser(`SELECT 1 FROM audit_log WHERE account_id = $1 AND type = 'email.confirmed' AND payload->>'flowId' = $2`, [accountId, flowId]);
    assert.equal(audit.rows.length, 0, 'the session was not confirmed by it');
  });

  test('another browser, or another session of the account, cannot use the flow', async () => {
    const { flow, code, accountId } = await waitingChange();
    const other = new Browser(t);
    const page = await other.get(flow);
    assert.equal(page.statusCode, 303, 'no session: to the login');
    const stranger = await citizenWithPassword(t);
    const s = new Browser(t);
    await logIn(s, stranger);
    assert.equal((await s.get(flow)).statusCode, 404);
    await s.get('/account/contact');
    const res = await s.post(flow, { method: 'email-code', code });
    assert.equal(res.statusCode, 404);
    assert.notEqual(await emailOf(accountId), attacker);
  });

  test('guessing: the fifth wrong code ends the flow, and the right one is refused after', async () => {
    const { b, flow, code, accountId, email } = await waitingChange();
    const page = (await b.get(flow)).body;
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 1; i <= 4; i++) assert.equal((await b.post(flow, { method: 'email-code', code: wrong }, page)).statusCode, 400);
    assert.equal((await b.post(flow, { method: 'email-code', code: wrong }, page)).statusCode, 410);
    assert.equal((await b.post(flow, { method: 'email-code', code }, page)).statusCode, 410);
    assert.equal(await emailOf(accountId), email);
  });

  test('replay: the code works once; posting it again changes nothing more', async () => {
    const { b, flow, code, accountId } = await waitingChange('proprietaire.nouvelle@exemple.org');
    await b.get(flow);
    assert.equal((await b.post(flow, { method: 'email-code', code })).statusCode, 303);
    const events = Number((await tdb.superuser(`SELECT count(*)::int AS n FROM file_events WHERE account_id = $1`, [accountId])).rows[0]?.n);
    const again = await b.post(flow, { method: 'email-code', code }, (await b.get('/account/contact')).body);
    assert.equal(again.statusCode, 410);
    assert.equal(Number((await tdb.superuser(`SELECT count(*)::int AS n FROM file_events WHERE account_id = $1`, [accountId])).rows[0]?.n), events);
    assert.equal(await pendingRows(accountId), 0, 'the addresses are wiped once used');
  });

  test('a forged cross-site post (no CSRF token) starts nothing', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const res = await forgedPost(t.app, '/account/contact/email', { jar: b.jar, fields: { email: attacker } });
    assert.equal(res.statusCode, 403);
    assert.equal(await pendingRows(c.accountId), 0);
  });
});
