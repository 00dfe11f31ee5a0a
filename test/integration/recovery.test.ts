import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nirIndex } from '../../src/accounts/accounts.ts';
import { system } from '../../src/db/contexts.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { uniqueNir } from '../support/fixtures.ts';
import { Browser, citizenWithPassword, lastCode, logIn, mailsFor, type Citizen } from '../support/login.ts';
import { fieldError, pageText, pendingCitizen, recover, startFlow, verifyFlowCode } from '../support/flows.ts';
import { onEachBackend } from '../support/suites.ts';

const mailsOf = async (t: TestApp, accountId: string, template: string) => (await mailsFor(t, accountId)).filter((m) => m.template === template);

onEachBackend('recovery', ({ t, tdb }) => {
  let ip = 0;
  /** A browser from its own address, so the per-client throttle of one test does not leak into another. */
  const browser = (): Browser => {
    const b = new Browser(t);
    b.ip = `198.51.100.${++ip}`;
    return b;
  };
  /** The password step alone: 303 to the code page when accepted, 401 or 429 when not. */
  const passwordAnswer = async (c: Pick<Citizen, 'nir' | 'password'>): Promise<number> => {
    const b = browser();
    await b.get('/login');
    return (await b.post('/login', { method: 'password', nir: c.nir, password: c.password })).statusCode;
  };

  test('code, new password: every session ends, the owner is told, the old password no longer works and the new one does', async () => {
    const c = await citizenWithPassword(t);
    const phone = browser();
    const laptop = browser();
    await logIn(phone, c);
    await logIn(laptop, c);
    assert.equal((await phone.get('/account')).statusCode, 200);

    const b = browser();
    const form = await b.get('/recover');
    assert.match(form.body, /Mot de passe oublié/);
    assert.match(form.body, /<input type="hidden" name="method" value="email-code">/);
    const { flow, page } = await startFlow(b, '/recover', { nir: c.nir });
    assert.match(page.body, /Si un compte correspond aux informations saisies, un code à 6 chiffres a été envoyé/);
    assert.ok(!page.body.includes('***@'), 'no masked address');
    const codes = await mailsOf(t, c.accountId, 'one-time-code');
    assert.equal(codes[0]?.params.purpose, 'recovery');
    assert.equal(codes[0]?.to, c.email);

    // Before the code, the password form is not there to post to.
    const early = await b.post(flow, { method: 'password', password: 'une nouvelle phrase secrète', confirm: 'une nouvelle phrase secrète' });
    assert.equal(early.statusCode, 303);
    assert.equal(early.headers.location, flow);
    await b.get(flow);
    await verifyFlowCode(b, flow, c.accountId);
    const page2 = await b.get(flow);
    assert.match(page2.body, /Choisissez un nouveau mot de passe/);
    const withNir = await b.post(flow, { method: 'password', password: `secret ${c.nir}`, confirm: `secret ${c.nir}` });
    assert.equal(withNir.statusCode, 400);
    assert.match(fieldError(withNir.body, 'password') ?? '', /ne doit pas contenir votre numéro de sécurité sociale/);

    const password = 'une nouvelle phrase secrète';
    const done = await b.post(flow, { method: 'password', password, confirm: password });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/login?done=password-reset');
    assert.match((await b.get('/login?done=password-reset')).body, /Votre mot de passe a été changé/);

    for (const gone of [phone, laptop]) {
      const res = await gone.get('/account');
      assert.equal(res.statusCode, 303, 'every session that existed before has ended');
      assert.equal(res.headers.location, '/login');
    }
    const sessions = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ end_reason: string | null }>(`SELECT end_reason FROM sessions WHERE account_id = $1`, [c.accountId])).rows);
    assert.deepEqual(sessions.map((s) => s.end_reason), ['recovery', 'recovery']);

    const changed = await mailsOf(t, c.accountId, 'password-changed');
    assert.equal(changed.length, 1);
    assert.equal(changed[0]?.params.via, 'recovery');
    assert.equal(changed[0]?.to, c.email);

    assert.equal(await passwordAnswer(c), 401, 'the old password is refused');
    await logIn(browser(), { ...c, password });
    assert.equal((await b.get(flow)).statusCode, 410, 'the flow is over');
  });

  test('unknown NIR, an account waiting for activation and one without an address get the same page as a match, and no mail', async () => {
    const c = await citizenWithPassword(t);
    const pending = await pendingCitizen(t);
    const noEmail = await citizenWithPassword(t, { contact: { email: null } });
    const pages = [];
    for (const nir of [c.nir, uniqueNir(2), pending.nir, noEmail.nir]) {
      const { post, page } = await startFlow(browser(), '/recover', { nir });
      pages.push({ post: post.statusCode, status: page.statusCode, text: pageText(page.body) });
    }
    assert.match(pages[0]?.text ?? '', /Si un compte correspond/);
    for (const other of pages.slice(1)) assert.deepEqual(other, pages[0]);
    assert.equal((await mailsOf(t, c.accountId, 'one-time-code')).length, 1);
    assert.equal((await mailsFor(t, pending.accountId)).length, 0, 'nothing is sent to an account waiting for activation');
  });

  test('a malformed NIR is answered on the form, in the user’s language', async () => {
    const b = browser();
    await b.get('/recover?lang=en');
    const res = await b.post('/recover', { method: 'email-code', nir: '1 85 07 75 ABC' });
    assert.equal(res.statusCode, 400);
    assert.match(fieldError(res.body, 'nir') ?? '', /^The number must be 15 characters long/);
    assert.match(res.body, /value="1 85 07 75 ABC"/);
  });

  test('the code of one recovery flow does not work in another', async () => {
    const c = await citizenWithPassword(t);
    const b = browser();
    const first = await startFlow(b, '/recover', { nir: c.nir });
    const firstCode = await lastCode(t, c.accountId);
    const second = await startFlow(b, '/recover', { nir: c.nir });
    const secondCode = await lastCode(t, c.accountId);
    assert.notEqual(firstCode, secondCode, 'two random codes (1 chance in a million to be equal)');
    const wrong = await b.post(second.flow, { method: 'email-code', code: firstCode });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /Le code est incorrect/);
    // The first flow's code still works in its own flow.
    await b.get(first.flow);
    const right = await b.post(first.flow, { method: 'email-code', code: firstCode });
    assert.equal(right.statusCode, 303);
  });

  test('recovery lifts the lock that 100 consecutive failures put on the account', async () => {
    const c = await citizenWithPassword(t);
    await system(t.deps.db, 'test', (tx) =>
      tx.query(`INSERT INTO login_throttle (subject, consecutive_failures, last_failure_at, blocked_until) VALUES ($1, 100, $2, NULL)`, [nirIndex(t.deps.ring, c.nir), t.clock.now()]),
    );
    const b = browser();
    await b.get('/login');
    const locked = await b.post('/login', { method: 'password', nir: c.nir, password: c.password });
    assert.equal(locked.statusCode, 429);
    assert.match(locked.body, /Mot de passe oublié/);

    const password = 'après le verrou une nouvelle phrase';
    await recover(browser(), c, password);
    await logIn(browser(), { ...c, password });
  });

  test('the lock can also be reached by failures, with a lower threshold', async () => {
    const low = await testApp({ db: tdb.db, ring: t.deps.ring, env: { SESAME_THROTTLE_RECOVERY_AFTER: '3', SESAME_THROTTLE_FREE_FAILURES: '10' } });
    try {
      const c = await citizenWithPassword(low);
      const b = new Browser(low);
      b.ip = '198.51.100.250';
      await b.get('/login');
      for (let i = 0; i < 3; i++) assert.equal((await b.post('/login', { method: 'password', nir: c.nir, password: 'pas le bon mot de passe' })).statusCode, 401);
      assert.equal((await b.post('/login', { method: 'password', nir: c.nir, password: c.password })).statusCode, 429, 'locked, even with the right password');
      const password = 'une phrase pour rouvrir le compte';
      await recover(new Browser(low), c, password);
      const again = new Browser(low);
      await logIn(again, { ...c, password });
    } finally {
      await low.close();
    }
  });
});
