import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { uniqueNir } from '../support/fixtures.ts';
import { pageText, startFlow } from '../support/flows.ts';
import { Browser, citizenWithPassword, lastCode, logIn, mailsFor, submitPassword } from '../support/login.ts';

/**
 * « Mot de passe oublié » needs only a NIR. Someone who knows a victim's NIR must not be able
 * to use it to spend the victim's login codes, flood their mailbox, or learn from the pages
 * that the NIR has an account; and whoever knows the password must not get unlimited code
 * guesses by opening flow after flow.
 */
describe('code budgets against flooding, lockout and guessing', () => {
  let db: OpenDatabase;
  let t: TestApp;
  let ip = 0;
  const browser = (): Browser => {
    const b = new Browser(t);
    b.ip = `192.0.2.${++ip}`;
    return b;
  };
  before(async () => {
    db = await openDatabase({ migrate: true });
    t = await testApp({ db });
  });
  after(async () => {
    await t.close();
    await db.close();
  });

  test('a dozen recovery requests send at most 5 mails and leave the victim able to log in', async () => {
    const victim = await citizenWithPassword(t);
    for (let i = 0; i < 12; i++) await startFlow(browser(), '/recover', { nir: victim.nir });
    const codes = (await mailsFor(t, victim.accountId)).filter((m) => m.template === 'one-time-code');
    assert.equal(codes.length, 5, 'the unauthenticated budget (5 an hour) caps the mails');

    const b = browser();
    const flow = await submitPassword(b, victim);
    t.clock.advance(1000);
    assert.equal((await b.post(`${flow}/send`, { method: 'email-code' })).statusCode, 303, 'the login budget is untouched');
    await b.get(flow);
    const done = await b.post(flow, { method: 'email-code', code: await lastCode(t, victim.accountId) });
    assert.equal(done.headers.location, '/account');
  });

  test('nor the confirmation codes the owner asks from their session (a change of password): they go out, or a refusal is shown', async () => {
    const owner = await citizenWithPassword(t);
    const b = browser();
    await logIn(b, owner);
    t.clock.advance(10 * 60_000); // the login's code is no longer fresh: the change asks for a new one
    for (let i = 0; i < 12; i++) await startFlow(browser(), '/recover', { nir: owner.nir });
    const mailed = async (): Promise<number> => (await mailsFor(t, owner.accountId)).filter((m) => m.template === 'one-time-code').length;
    const before = await mailed();
    await b.get('/account/security');
    const password = 'another long passphrase 9';
    const asked = await b.post('/account/security/password', { method: 'password', current: owner.password, password, confirm: password });
    const confirm = String(asked.headers.location);
    assert.match(confirm, /^\/confirm\//);
    await b.get(confirm);
    t.clock.advance(1000);
    assert.equal((await b.post(`${confirm}/send`, { method: 'email-code' })).statusCode, 303);
    assert.equal(await mailed(), before + 1, 'the confirmation code was mailed');
    await b.get(confirm);
    const done = await b.post(confirm, { method: 'email-code', code: await lastCode(t, owner.accountId) });
    assert.equal(done.statusCode, 303);
  });

  test('once the budget is spent, a recovery page and its resend read exactly as for an unknown NIR', async () => {
    const victim = await citizenWithPassword(t);
    for (let i = 0; i < 5; i++) await startFlow(browser(), '/recover', { nir: victim.nir });
    const answers = [];
    for (const nir of [victim.nir, uniqueNir()]) {
      const b = browser();
      const started = await startFlow(b, '/recover', { nir });
      t.clock.advance(61_000);
      const resend = await b.post(`${started.flow}/send`, { method: 'email-code' });
      const after = await b.get(started.flow);
      answers.push({ page: pageText(started.page.body), resend: resend.statusCode, after: pageText(after.body) });
      t.clock.advance(-61_000);
    }
    assert.deepEqual(answers[0], answers[1]);
    assert.equal(answers[0]?.resend, 303);
  });

  test('whoever knows the password gets 20 wrong codes a day across flows, then no more codes', async () => {
    const c = await citizenWithPassword(t);
    for (let flowNumber = 0; flowNumber < 4; flowNumber++) {
      const b = browser();
      const flow = await submitPassword(b, c);
      t.clock.advance(1000);
      assert.equal((await b.post(`${flow}/send`, { method: 'email-code' })).statusCode, 303);
      await b.get(flow);
      for (let guess = 0; guess < 5; guess++) {
        const res = await b.post(flow, { method: 'email-code', code: String(100000 + guess) });
        assert.notEqual(res.headers.location, '/account');
        if (guess < 4) await b.get(flow);
      }
    }
    const b = browser();
    const flow = await submitPassword(b, c);
    const refused = await b.post(`${flow}/send`, { method: 'email-code' });
    assert.equal(refused.statusCode, 429);
    assert.match(refused.body, /Trop de codes incorrects ont été saisis pour ce compte aujourd’hui\. Par sécurité, réessayez demain\./);
    t.clock.advance(24 * 3600 * 1000);
    const next = browser();
    const later = await submitPassword(next, c);
    assert.equal((await next.post(`${later}/send`, { method: 'email-code' })).statusCode, 303, 'a day later codes are sent again');
  });

  test('first connections and recoveries from one shared address do not close /login to it', async () => {
    const office = { ip: '198.51.100.99' };
    const limited = await testApp({ db, env: { SESAME_THROTTLE_IP_MAX_FAILURES: '3' } });
    try {
      const c = await citizenWithPassword(limited);
      for (let i = 0; i < 3; i++) {
        const b = new Browser(limited);
        b.ip = office.ip;
        await startFlow(b, '/recover', { nir: uniqueNir() });
      }
      const b = new Browser(limited);
      b.ip = office.ip;
      await b.get('/recover');
      assert.equal((await b.post('/recover', { method: 'email-code', nir: uniqueNir() })).statusCode, 429, 'the requests bucket is full');
      const login = new Browser(limited);
      login.ip = office.ip;
      await submitPassword(login, c);
    } finally {
      await limited.close();
    }
  });
});
