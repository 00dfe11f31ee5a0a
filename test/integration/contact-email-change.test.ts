import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readAccount } from '../../src/accounts/accounts.ts';
import { system } from '../../src/db/contexts.ts';
import { rebuildAccount } from '../../src/file/rebuild.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, lastCode, logIn, mailsFor } from '../support/login.ts';
import { fieldError } from '../support/flows.ts';
import { citizenWithApp } from '../support/totp.ts';
import { codeIn } from '../support/smtp-inbox.ts';
import { auditTypes, fileEvents, mailDelivery, sendKeptForm, stepUpWithApp } from '../support/contact-bank.ts';

/**
 * A change of email address: a re-authentication first (a step-up with a strong method, or a
 * fresh code to the current address for an account without one), then a code sent to the NEW
 * address; the change is made only once that code is typed, and the OLD address is told.
 * Mail goes over real SMTP to an inbox in the test.
 */
onEachBackend('change of email address', ({ t }) => {
  let mail: Awaited<ReturnType<typeof mailDelivery>>;
  before(async () => {
    mail = await mailDelivery(t);
  });
  after(async () => {
    await mail.close();
  });
  const emailOf = (accountId: string) => system(t.deps.db, 'test', async (tx) => (await readAccount(tx, t.deps.ring, accountId))?.contact.email);
  let n = 0;
  const newAddress = () => `nouvelle.adresse.${++n}@exemple.org`;

  test('with a strong method: step-up, the form kept, a code to the new address, the change, a notice to the old one', async () => {
    const { c, secret } = await citizenWithApp(t);
    const b = new Browser(t);
    await logIn(b, c);
    await b.get('/account/contact');
    const to = newAddress();
    const asked = await b.post('/account/contact/email', { email: to });
    assert.equal(asked.statusCode, 303);
    const kept = await stepUpWithApp(b, c, secret, String(asked.headers.location));
    assert.match(kept.body, new RegExp(`name="email" value="${to.replace(/\./g, '\\.')}"`), 'the address typed comes back');
    const started = await sendKeptForm(b, kept);
    assert.equal(started.statusCode, 303);
    const flow = String(started.headers.location);
    assert.match(flow, /^\/account\/contact\/email\/[0-9a-f-]{36}$/);
    const page = await b.get(flow);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, new RegExp(`Nous avons envoyé un code à 6 chiffres à ${to.replace(/\./g, '\\.')}`));

    // The code goes to the new address only.
    const queued = (await mailsFor(t, c.accountId)).filter((m) => m.template === 'contact-email-code');
    assert.deepEqual(queued.map((m) => m.to), [to]);
    await mail.deliver();
    const codeMail = await mail.next(to, /Confirmez votre nouvelle adresse/);
    assert.ok(!mail.mails.some((m) => m.to.includes(c.email) && /\b\d{6}\b/.test(m.text) && /nouvelle adresse/.test(m.subject)), 'no code to the old address');
    const code = codeIn(codeMail);
    assert.equal(await emailOf(c.accountId), c.email, 'nothing changes before the code');

    const wrong = await b.post(flow, { method: 'email-code', code: code === '000000' ? '111111' : '000000' });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /Le code est incorrect\. Il vous reste 4 essai\(s\)/);
    const done = await b.post(flow, { method: 'email-code', code });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/account/contact?done=email-changed');
    const after = await b.get('/account/contact?done=email-changed');
    assert.match(after.body, /Votre adresse électronique a été changée/);
    assert.equal(await emailOf(c.accountId), to);

    // The previous address is told, with the new one masked, and no link.
    await mail.deliver();
    const notice = await mail.next(c.email, /a été changée/);
    assert.match(notice.text, /n\*\*\*@e\*\*\*\.org/);
    assert.doesNotMatch(notice.text + notice.html, /https?:\/\/|<a\s/);
    assert.ok(!notice.text.includes(to), 'the full new address is not given away');

    const [event] = (await fileEvents(t, c.accountId)).filter((e) => e.type === 'contact.email-changed');
    assert.deepEqual([event?.data.before, event?.data.after, event?.level], [c.email, to, 'eidas2']);
    const audits = (await auditTypes(t, c.accountId, 'contact.%')).map((a) => a.type);
    assert.deepEqual(audits, ['contact.email-change-requested', 'contact.email-changed']);

    // The new address is the one the next login code goes to.
    const again = new Browser(t);
    await logIn(again, { ...c, email: to });
    assert.equal((await mailsFor(t, c.accountId)).find((m) => m.template === 'one-time-code')?.to, to);
    assert.equal((await rebuildAccount(t.deps.db, t.deps, c.accountId)).corrected, 0);
  });

  test('without a strong method: a fresh code to the current address stands in for the step-up', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    // Just logged in with an email code: that code is fresh, nothing more is asked.
    await b.get('/account/contact');
    const direct = await b.post('/account/contact/email', { email: newAddress() });
    assert.match(String(direct.headers.location), /^\/account\/contact\/email\//);

    t.clock.advance(6 * 60 * 1000);
    await b.get('/account/contact');
    const to = newAddress();
    const asked = await b.post('/account/contact/email', { email: to });
    const confirm = String(asked.headers.location);
    assert.match(confirm, /^\/confirm\/[0-9a-f-]{36}$/);
    await b.get(confirm);
    t.clock.advance(1000);
    await b.post(`${confirm}/send`, { method: 'email-code' });
    const confirmCode = (await mailsFor(t, c.accountId)).find((m) => m.template === 'one-time-code');
    assert.equal(confirmCode?.to, c.email, 'the re-authentication code goes to the current address');
    await b.get(confirm);
    const kept = await b.post(confirm, { method: 'email-code', code: await lastCode(t, c.accountId) });
    assert.equal(kept.statusCode, 200);
    const started = await sendKeptForm(b, kept);
    const flow = String(started.headers.location);
    assert.match(flow, /^\/account\/contact\/email\//);
    const code = (await mailsFor(t, c.accountId)).find((m) => m.template === 'contact-email-code' && m.to === to)?.params.code;
    assert.equal((await b.post(flow, { method: 'email-code', code: String(code) })).statusCode, 303);
    assert.equal(await emailOf(c.accountId), to);
    const notice = (await mailsFor(t, c.accountId)).find((m) => m.template === 'contact-email-changed');
    assert.equal(notice?.to, c.email);
  });

  test('a bad address comes back with its message in French and English; the current one is refused as "the same"', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    await b.get('/account/contact');
    const fr = await b.post('/account/contact/email', { email: 'camille.martin@' });
    assert.equal(fr.statusCode, 400);
    assert.match(fieldError(fr.body, 'email') ?? '', /Saisissez une adresse électronique valide/);
    assert.match(fr.body, /value="camille\.martin@"/);
    const en = await b.post('/account/contact/email?lang=en', { email: '' });
    assert.equal(en.statusCode, 400);
    assert.equal(fieldError(en.body, 'email'), 'Enter the new email address.');
    const same = await b.post('/account/contact/email?lang=fr', { email: c.email.toUpperCase() });
    assert.equal(same.statusCode, 400);
    assert.equal(fieldError(same.body, 'email'), 'C’est déjà votre adresse électronique.');
  });

  test('a new code after the cooldown replaces the first; a code past its 15 minutes is refused', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    await b.get('/account/contact');
    const to = newAddress();
    const flow = String((await b.post('/account/contact/email', { email: to })).headers.location);
    const codes = async () => (await mailsFor(t, c.accountId)).filter((m) => m.template === 'contact-email-code').map((m) => String(m.params.code));
    const [first] = await codes();
    const page = await b.get(flow);
    assert.match(page.body, /Vous pourrez demander un nouveau code à partir de/);
    assert.equal((await b.post(`${flow}/send`, { method: 'email-code' })).statusCode, 429, 'cooldown');
    t.clock.advance(61_000);
    await b.get(flow);
    assert.equal((await b.post(`${flow}/send`, { method: 'email-code' })).statusCode, 303);
    const [second] = await codes();
    assert.notEqual(second, first);
    await b.get(flow);
    if (first !== second) {
      const old = await b.post(flow, { method: 'email-code', code: String(first) });
      assert.equal(old.statusCode, 400, 'the first code died with the second');
    }
    t.clock.advance(15 * 60 * 1000 + 1000);
    const late = await b.post(flow, { method: 'email-code', code: String(second) });
    assert.equal(late.statusCode, 400);
    assert.match(late.body, /Ce code n’est plus valable/);
    assert.equal(await emailOf(c.accountId), c.email);
  });
});
