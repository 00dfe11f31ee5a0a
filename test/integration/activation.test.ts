import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueNir } from '../support/fixtures.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { Browser, citizenWithPassword, lastCode, logIn, mailsFor } from '../support/login.ts';
import { accountStatus, activate, asCitizen, fieldError, pageText, pendingCitizen, startFlow, verifyFlowCode } from '../support/flows.ts';
import { onEachBackend } from '../support/suites.ts';

const codeMails = async (t: TestApp, accountId: string) => (await mailsFor(t, accountId)).filter((m) => m.template === 'one-time-code');

onEachBackend('activation', ({ t, tdb }) => {
  let ip = 0;
  /** A browser from its own address, so the per-client throttle of one test does not leak into another. */
  const browser = (): Browser => {
    const b = new Browser(t);
    b.ip = `198.51.100.${++ip}`;
    return b;
  };

  test('NIR + birth date typed by hand, code by mail, password rules in French and English, then the account is active and logs in', async () => {
    const c = await pendingCitizen(t);
    const b = browser();
    const form = await b.get('/activate');
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /Activer votre compte/);
    assert.match(form.body, /<input class="fr-input" id="birthDate" name="birthDate" type="date"/);
    assert.match(form.body, /<input type="hidden" name="method" value="email-code">/);

    const [year, month, day] = c.birthDate.split('-');
    const { flow, page } = await startFlow(b, '/activate', { nir: c.nir, birthDate: `${day}/${month}/${year}` });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Si un compte correspond aux informations saisies, un code à 6 chiffres a été envoyé/);
    assert.ok(!page.body.includes('***@'), 'no masked address');
    assert.ok(!page.body.includes(c.email));
    const mails = await codeMails(t, c.accountId);
    assert.equal(mails.length, 1, 'the code is sent at once');
    assert.equal(mails[0]?.to, c.email);
    assert.equal(mails[0]?.params.purpose, 'activation');

    const wrong = await b.post(flow, { method: 'email-code', code: (await lastCode(t, c.accountId)) === '000000' ? '111111' : '000000' });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /Le code est incorrect. Il vous reste 4 essai\(s\)./);
    await verifyFlowCode(b, flow, c.accountId);
    const again = await b.get(flow);
    assert.match(again.body, /Choisissez votre mot de passe/);
    assert.match(again.body, /<input type="hidden" name="method" value="password">/);

    const tooShort = await b.post(flow, { method: 'password', password: 'court', confirm: 'court' });
    assert.equal(tooShort.statusCode, 400);
    assert.equal(fieldError(tooShort.body, 'password'), 'Le mot de passe doit comporter au moins 12 caractères.');
    assert.ok(!tooShort.body.includes('value="court"'), 'the password is never sent back');
    const common = await b.post(flow, { method: 'password', password: 'Password2024!!', confirm: 'Password2024!!' });
    assert.match(fieldError(common.body, 'password') ?? '', /fait partie des plus courants/);
    const withNir = await b.post(flow, { method: 'password', password: `mon numéro ${c.nir}`, confirm: `mon numéro ${c.nir}` });
    assert.match(fieldError(withNir.body, 'password') ?? '', /ne doit pas contenir votre numéro de sécurité sociale/);
    const mismatch = await b.post(`${flow}?lang=en`, { method: 'password', password: 'a long enough passphrase', confirm: 'a long enough passphrasf' });
    assert.equal(mismatch.statusCode, 400);
    assert.match(mismatch.body, /<html lang="en"/);
    assert.equal(fieldError(mismatch.body, 'confirm'), 'The two passwords are not the same.');
    // The language chosen with ?lang= is kept by its cookie.
    const short = await b.post(flow, { method: 'password', password: 'short', confirm: 'short' });
    assert.equal(fieldError(short.body, 'password'), 'The password must be at least 12 characters long.');
    await b.get('/activate?lang=fr');

    const password = 'ma phrase de passe bien à moi';
    const done = await b.post(flow, { method: 'password', password, confirm: password });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/login?done=activated');
    assert.equal(await accountStatus(t, c.accountId), 'active');
    const changed = (await mailsFor(t, c.accountId)).filter((m) => m.template === 'password-changed');
    assert.equal(changed.length, 1);
    assert.equal(changed[0]?.params.via, 'activation');
    const notice = await b.get('/login?done=activated');
    assert.match(notice.body, /Votre compte est activé/);

    const over = await b.get(flow);
    assert.equal(over.statusCode, 410, 'the flow is over once the password is set');
    await logIn(browser(), asCitizen(c, password));
  });

  test('wrong birth date, unknown NIR, an already active account and one without an address get the same page as a match, and no mail', async () => {
    const c = await pendingCitizen(t);
    const active = await citizenWithPassword(t);
    const activated = await pendingCitizen(t);
    await activate(browser(), activated, 'déjà activé une première fois');
    const codesBefore = (await codeMails(t, activated.accountId)).length;
    const noEmail = await pendingCitizen(t, { contact: { email: null } });
    const pages = [];
    for (const fields of [
      { nir: c.nir, birthDate: c.birthDate },
      { nir: c.nir, birthDate: '1985-07-15' },
      { nir: uniqueNir(2), birthDate: c.birthDate },
      { nir: active.nir, birthDate: '1985-07-14' },
      { nir: activated.nir, birthDate: activated.birthDate },
      { nir: noEmail.nir, birthDate: noEmail.birthDate },
    ]) {
      const { post, page } = await startFlow(browser(), '/activate', fields);
      pages.push({ post: post.statusCode, status: page.statusCode, text: pageText(page.body) });
    }
    assert.match(pages[0]?.text ?? '', /Si un compte correspond/);
    assert.ok(!(pages[0]?.text ?? '').includes('***'));
    for (const other of pages.slice(1)) assert.deepEqual(other, pages[0]);
    assert.equal((await codeMails(t, c.accountId)).length, 1, 'only the match got a code');
    assert.equal((await codeMails(t, active.accountId)).length, 0, 'an active account is never "activated" again');
    assert.equal(await accountStatus(t, active.accountId), 'active');
    assert.equal((await codeMails(t, activated.accountId)).length, codesBefore, 'nor one that was activated here');
  });

  test('a flow without a match plays along: codes are counted, wrong codes too, until the flow fails', async () => {
    const b = browser();
    const { flow } = await startFlow(b, '/activate', { nir: uniqueNir(), birthDate: '1990-01-01' });
    for (let i = 4; i >= 1; i--) {
      const res = await b.post(flow, { method: 'email-code', code: '123456' });
      assert.equal(res.statusCode, 400);
      assert.match(res.body, new RegExp(`Il vous reste ${i} essai`));
    }
    const failed = await b.post(flow, { method: 'email-code', code: '123456' });
    assert.equal(failed.statusCode, 410);
    assert.match(failed.body, /Trop de codes incorrects/);
    assert.match(failed.body, /href="\/activate"/);
  });

  test('a malformed NIR or date is answered on the form, in the user’s language, keeping what was typed', async () => {
    const b = browser();
    await b.get('/activate');
    const res = await b.post('/activate', { method: 'email-code', nir: '1 85 07', birthDate: '31/02/1985' });
    assert.equal(res.statusCode, 400);
    assert.match(fieldError(res.body, 'nir') ?? '', /Le numéro doit comporter 15 caractères/);
    assert.equal(fieldError(res.body, 'birthDate'), 'Cette date n’existe pas : vérifiez le jour et le mois.');
    assert.match(res.body, /id="nir" name="nir" type="text" value="1 85 07"/);
    assert.match(res.body, /id="birthDate" name="birthDate" type="date" value="31\/02\/1985"/);

    const c = await pendingCitizen(t);
    b.jar.set('__Host-sesame-lang', 'en');
    const en = await b.post('/activate', { method: 'email-code', nir: c.nir, birthDate: '14 juillet 1985' });
    assert.equal(en.statusCode, 400);
    assert.equal(fieldError(en.body, 'nir'), undefined, 'the NIR was fine');
    assert.equal(fieldError(en.body, 'birthDate'), 'Enter the date of birth as DD/MM/YYYY, for example 14/07/1985.');
    const future = await b.post('/activate', { method: 'email-code', nir: c.nir, birthDate: '2030-01-01' });
    assert.equal(fieldError(future.body, 'birthDate'), 'The date of birth cannot be in the future.');
    const empty = await b.post('/activate', { method: 'email-code', nir: '', birthDate: '' });
    assert.equal(fieldError(empty.body, 'birthDate'), 'Enter your date of birth.');
    assert.equal((await codeMails(t, c.accountId)).length, 0);
  });

  test('requests from one client address are throttled before any NIR is looked up', async () => {
    const low = await testApp({ db: tdb.db, ring: t.deps.ring, env: { SESAME_THROTTLE_IP_MAX_FAILURES: '2' } });
    try {
      const c = await pendingCitizen(low);
      const b = new Browser(low);
      b.ip = '198.51.100.251';
      for (let i = 0; i < 2; i++) await startFlow(b, '/activate', { nir: uniqueNir(), birthDate: '1990-01-01' });
      await b.get('/activate');
      const res = await b.post('/activate', { method: 'email-code', nir: c.nir, birthDate: c.birthDate });
      assert.equal(res.statusCode, 429);
      assert.ok(Number(res.headers['retry-after']) > 0);
      assert.match(res.body, /Trop de tentatives/);
      assert.match(res.body, /les demandes d’activation depuis votre connexion sont suspendues jusqu’à \d\d:\d\d/);
      assert.equal((await codeMails(low, c.accountId)).length, 0);
    } finally {
      await low.close();
    }
  });

  test('two flows for one account: once one has set the password, the other cannot set another', async () => {
    const c = await pendingCitizen(t);
    const first = browser();
    const second = browser();
    const a = await startFlow(first, '/activate', { nir: c.nir, birthDate: c.birthDate });
    await verifyFlowCode(first, a.flow, c.accountId);
    const b = await startFlow(second, '/activate', { nir: c.nir, birthDate: c.birthDate });
    await verifyFlowCode(second, b.flow, c.accountId);
    const password = 'la première phrase choisie';
    assert.equal((await first.post(a.flow, { method: 'password', password, confirm: password })).statusCode, 303);
    const late = await second.post(b.flow, { method: 'password', password: 'une autre phrase de passe', confirm: 'une autre phrase de passe' });
    assert.equal(late.statusCode, 410);
    await logIn(browser(), asCitizen(c, password));
  });

  test('a flow belongs to its browser and its kind: another browser, or the login and recovery pages, do not know it', async () => {
    const c = await pendingCitizen(t);
    const owner = browser();
    const { flow, page } = await startFlow(owner, '/activate', { nir: c.nir, birthDate: c.birthDate });
    const code = await lastCode(t, c.accountId);
    const other = browser();
    const form = await other.get('/activate');
    assert.equal((await other.get(flow)).statusCode, 404);
    assert.equal((await other.post(flow, { method: 'email-code', code }, form.body)).statusCode, 404);
    assert.equal((await owner.post(flow.replace('/activate/', '/login/'), { method: 'email-code', code }, page.body)).statusCode, 404, 'not a login flow');
    assert.equal((await owner.post(flow.replace('/activate/', '/recover/'), { method: 'email-code', code }, page.body)).statusCode, 404, 'not a recovery flow');
    // None of that used the code up.
    await owner.get(flow);
    await verifyFlowCode(owner, flow, c.accountId);
  });
});
