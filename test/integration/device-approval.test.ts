import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { TestDevice, citizenWithDevice, requestApproval } from '../support/device.ts';
import { Browser, citizenWithPassword, lastCode, logIn, mailsFor, submitPassword, pastCoolingOff } from '../support/login.ts';
import { onEachBackend } from '../support/suites.ts';
import type { TestApp } from '../support/app.ts';

/** A citizen with a phone (an Android one) registered from a fresh login (password + email code). */
const withDevice = (t: TestApp) =>
  citizenWithDevice(t, { userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36' });

async function sessionsOf(t: TestApp, accountId: string) {
  return system(t.deps.db, 'test', async (tx) => {
    const { rows } = await tx.query<{ level: string; amr: string[]; ended_at: Date | null; sensitive_from: Date | null }>(
      `SELECT level, amr, ended_at, sensitive_from FROM sessions WHERE account_id = $1 ORDER BY created_at, id`,
      [accountId],
    );
    return rows;
  });
}

onEachBackend('device approval', ({ t }) => {
  test('the /device page works without a session and offers to register once logged in', async () => {
    const anonymous = new Browser(t);
    const page = await anonymous.get('/device');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /device\.js/);
    assert.doesNotMatch(page.body, /id="device-register"/, 'no registration form without a session');
    const c = await citizenWithPassword(t);
    await logIn(anonymous, c);
    const again = await anonymous.get('/device');
    assert.match(again.body, /id="device-register"/);
  });

  test('registration mails the owner, and is refused without a session or a fresh confirmation', async () => {
    const { c, device } = await withDevice(t);
    const mails = await mailsFor(t, c.accountId);
    assert.ok(mails.some((m) => m.template === 'authenticator-changed' && m.params.kind === 'device' && m.params.change === 'added'));
    assert.equal((await device.post('/device/nonce', { device: device.keyId })).status, 200);

    // No session: the account area sends to /login (the form needs a CSRF token as well).
    const stranger = new Browser(t);
    await stranger.get('/login');
    const other = new TestDevice(t);
    const res = await stranger.post('/device', { method: 'device-approval', name: 'x', publicKey: other.spki.toString('base64url') });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/login');

    // A session whose email code is old: a fresh confirmation first (no strong method yet).
    const d = await citizenWithPassword(t);
    const phone = new Browser(t);
    await logIn(phone, d);
    t.clock.advance((t.deps.config.auth.stepUpMaxAge + 1) * 1000);
    const late = await other.register(phone);
    assert.equal(late.statusCode, 303);
    assert.match(String(late.headers.location), /^\/confirm\/[0-9a-f-]{36}$/);
    assert.equal((await other.post('/device/nonce', { device: other.keyId })).status, 404, 'not registered');

    // With a device already on the account, past its cooling-off, another one needs a step-up (eidas2).
    const second = new TestDevice(t);
    const { c: c2, phone: p2 } = await withDevice(t);
    await pastCoolingOff(t, c2.accountId);
    t.clock.advance((t.deps.config.auth.stepUpMaxAge + 1) * 1000);
    const stepUp = await second.register(p2);
    assert.equal(stepUp.statusCode, 303);
    assert.match(String(stepUp.headers.location), /^\/step-up\/[0-9a-f-]{36}$/);
  });

  test('a key that is not P-256 is refused', async () => {
    const c = await citizenWithPassword(t);
    const phone = new Browser(t);
    await logIn(phone, c);
    await phone.get('/device');
    const res = await phone.post('/device', { method: 'device-approval', name: 'Téléphone', publicKey: Buffer.alloc(91, 7).toString('base64url') });
    assert.equal(res.statusCode, 400);
  });

  test('password + approval with the right number: a session at eidas2 with amr mfa, pwd, swk', async () => {
    const { c, device } = await withDevice(t);
    const computer = new Browser(t);
    const { wait, approvalId, number } = await requestApproval(computer, c);

    const pending = await device.poll();
    assert.equal(pending.length, 1);
    const request = pending[0];
    assert.ok(request);
    assert.equal(request.id, approvalId);
    assert.equal(request.numbers.length, 3);
    assert.equal(new Set(request.numbers).size, 3, 'three distinct numbers');
    assert.ok(request.numbers.includes(number), 'the number shown on the computer is offered');
    assert.ok(request.numbers.every((n) => n >= 10 && n <= 99));
    assert.match(request.browser, /Firefox/);
    assert.equal(request.place, null);
    assert.match(request.time, /^\d{2}:\d{2}$/);

    // Not approved yet: the waiting page again, no session.
    const early = await computer.post(wait, { method: 'device-approval' });
    assert.equal(early.statusCode, 200);
    assert.match(early.body, /id="approval-number"/);
    assert.equal((await computer.get(`${wait}/status`)).json().status, 'pending');

    const decided = await device.decide(approvalId, 'approve', String(number));
    assert.equal(decided.status, 200);
    assert.equal(decided.json.result, 'approved');
    assert.equal((await computer.get(`${wait}/status`)).json().status, 'approved');

    const done = await computer.post(wait, { method: 'device-approval' });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/account');
    assert.equal((await computer.get('/account')).statusCode, 200);
    const sessions = await sessionsOf(t, c.accountId);
    assert.equal(sessions.length, 2, "the phone's and the computer's");
    const last = sessions.find((s) => s.level !== 'eidas1');
    assert.ok(last);
    assert.equal(last.level, 'eidas2');
    assert.deepEqual(last.amr, ['mfa', 'pwd', 'swk']);
    // Added from a password + email code session: the device is cooling off.
    assert.ok(last.sensitive_from && last.sensitive_from.getTime() > t.clock.now().getTime());

    // The approval is used once: posting again finds the flow over.
    const replay = await computer.post(wait, { method: 'device-approval' });
    assert.notEqual(replay.statusCode, 303);
    assert.deepEqual(await device.poll(), []);
  });

  test('a step-up by device approval raises the session to eidas2 and gives the form back', async () => {
    const { c, device } = await withDevice(t);
    const computer = new Browser(t);
    await logIn(computer, c);
    assert.equal((await sessionsOf(t, c.accountId)).at(-1)?.level, 'eidas1');
    // Registering a second phone from an aged session: a step-up (the account has a usable device).
    await pastCoolingOff(t, c.accountId);
    t.clock.advance((t.deps.config.auth.stepUpMaxAge + 1) * 1000);
    const other = new TestDevice(t);
    const res = await other.register(computer);
    const stepUp = String(res.headers.location);
    assert.match(stepUp, /^\/step-up\/[0-9a-f-]{36}$/);
    // The step-up's password page is not this module's: its outcome, as it records it.
    await system(t.deps.db, 'test', (tx) => tx.query(`UPDATE auth_flows SET completed_methods = '{password}', state = 'second-factor' WHERE id = $1`, [stepUp.slice('/step-up/'.length)]));
    // Another browser cannot use this session's step-up.
    const intruder = new Browser(t);
    assert.equal((await intruder.get(`${stepUp}/device`)).statusCode, 404);

    const { wait, approvalId, number } = await requestApproval(computer, c, stepUp);
    assert.equal((await device.decide(approvalId, 'approve', String(number))).json.result, 'approved');
    const done = await computer.post(wait, { method: 'device-approval' });
    assert.equal(done.statusCode, 200, 'the kept registration form comes back');
    assert.match(done.body, /action="\/device"/);
    const raised = (await sessionsOf(t, c.accountId)).filter((s) => s.ended_at === null).at(-1);
    assert.equal(raised?.level, 'eidas2');
    assert.deepEqual(raised?.amr, ['mfa', 'pwd', 'swk']);
  });

  test('a denial ends the flow, mails the owner, and lets the device end every session and open flow', async () => {
    const { c, phone, device } = await withDevice(t);
    const computer = new Browser(t);
    const { wait, approvalId } = await requestApproval(computer, c);
    // Whoever knows the password has another flow past it, waiting for an email code.
    const thief = new Browser(t);
    const thiefFlow = await submitPassword(thief, c);
    assert.equal((await thief.post(`${thiefFlow}/send`, { method: 'email-code' })).statusCode, 303);
    await thief.get(thiefFlow);
    const denied = await device.decide(approvalId, 'deny');
    assert.equal(denied.json.result, 'denied');

    const page = await computer.post(wait, { method: 'device-approval' });
    assert.equal(page.statusCode, 403);
    assert.match(page.body, /refusée/);
    assert.equal((await computer.get(`${wait}/status`)).json().status, 'denied');
    const flowId = wait.split('/')[2];
    const ended = await system(t.deps.db, 'test', (tx) => tx.query<{ ended_at: Date | null; state: string }>(`SELECT ended_at, state FROM auth_flows WHERE id = $1`, [flowId]));
    assert.ok(ended.rows[0]?.ended_at, 'the flow is over');
    assert.equal(ended.rows[0]?.state, 'denied');

    const mail = (await mailsFor(t, c.accountId)).find((m) => m.template === 'approval-denied');
    assert.ok(mail, 'an alert mail was queued');
    assert.match(String(mail.params.browser), /Firefox/);
    assert.equal(mail.params.place, null);
    assert.equal(mail.params.reason, 'denied');

    assert.ok((await sessionsOf(t, c.accountId)).some((s) => s.ended_at === null), 'the phone is still logged in');
    const end = await device.endSessions(approvalId);
    assert.equal(end.status, 200);
    assert.equal(end.json.result, 'ended');
    assert.ok((await sessionsOf(t, c.accountId)).every((s) => s.ended_at !== null), 'every session ended');
    assert.equal((await phone.get('/account')).statusCode, 303);

    // The thief's flow ended too: the email code (if they read the mailbox) opens nothing.
    const open = await system(t.deps.db, 'test', (tx) => tx.query(`SELECT 1 FROM auth_flows WHERE account_id = $1 AND ended_at IS NULL`, [c.accountId]));
    assert.equal(open.rows.length, 0, 'no open flow is left');
    const code = await thief.post(thiefFlow, { method: 'email-code', code: await lastCode(t, c.accountId) });
    assert.notEqual(code.statusCode, 303);
    assert.equal(thief.jar.get('__Host-sesame-session'), undefined, 'no session for the thief');
  });

  test('ending all sessions needs a denial by this device', async () => {
    const { c, device } = await withDevice(t);
    const computer = new Browser(t);
    const { approvalId, number } = await requestApproval(computer, c);
    await device.decide(approvalId, 'approve', String(number));
    const end = await device.endSessions(approvalId);
    assert.equal(end.json.result, 'refused');
    assert.ok((await sessionsOf(t, c.accountId)).some((s) => s.ended_at === null));
  });

  test('the second step is offered only to accounts with a device, and the page without a request is refused', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    const flow = await submitPassword(b, c);
    await b.get(`${flow}/device`);
    const res = await b.post(`${flow}/device`, { method: 'device-approval' });
    assert.equal(res.statusCode, 409);
    assert.match(res.body, /Aucun téléphone/);
  });
});

