import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNir } from '../../src/accounts/nir.ts';
import { system } from '../../src/db/contexts.ts';
import { closeAccess, openAccess } from '../../src/incident/access.ts';
import { readBankDetails } from '../../src/file/projections/bank-details.ts';
import { rebuildAccount } from '../../src/file/rebuild.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, logIn, mailsFor } from '../support/login.ts';
import { fieldError } from '../support/flows.ts';
import { citizenWithApp } from '../support/totp.ts';
import { testIban } from '../support/french-ibans.ts';
import { agencyBankDetails, auditTypes, cancelCodeIn, changeBankDetails, fileEvents, liveSessions, mailDelivery } from '../support/contact-bank.ts';

/**
 * The owner of an account whose bank details someone else changed, and who may no longer get
 * in: the notice tells them to type an address and give their NIR with the code it carries.
 * That cancels the change, ends every session of the account, and says to change the password.
 */
const DAY = 24 * 3600 * 1000;

onEachBackend('bank change cancelled with the mailed code', ({ t }) => {
  let mail: Awaited<ReturnType<typeof mailDelivery>>;
  before(async () => {
    mail = await mailDelivery(t);
  });
  after(async () => {
    await mail.close();
  });
  let n = 300;

  /** A change made from a logged-in browser (as an intruder would), delivered: the notice's code. */
  async function changed(): Promise<{ c: Awaited<ReturnType<typeof citizenWithApp>>['c']; intruder: Browser; previous: string; iban: string; code: string }> {
    const { c, secret } = await citizenWithApp(t);
    const previous = testIban(++n);
    await agencyBankDetails(t, c.accountId, previous);
    const intruder = new Browser(t);
    await logIn(intruder, c);
    const iban = testIban(++n);
    assert.equal((await changeBankDetails(intruder, c, secret, { iban, holder: 'Dominique Dupont' })).statusCode, 303);
    await mail.deliver();
    const notice = await mail.next(c.email, /coordonnées bancaires|bank details/);
    return { c, intruder, previous, iban, code: cancelCodeIn(notice.text) };
  }

  test('the NIR and the code from the mail cancel the change, end every session, and say to change the password', async () => {
    const { c, intruder, previous, code } = await changed();
    assert.ok((await liveSessions(t, c.accountId)) > 0);
    const owner = new Browser(t);
    owner.ip = '198.51.100.20';
    const page = await owner.get('/annuler-changement-bancaire');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>Annuler un changement de coordonnées bancaires<\/h1>/);
    const res = await owner.post('/annuler-changement-bancaire', { nir: formatNir(c.nir), code: code.toLowerCase().replace('-', ' ') });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Le changement a été annulé/);
    assert.match(res.body, /href="\/recover"/);

    const view = await system(t.deps.db, 'test', (tx) => readBankDetails(tx, t.deps.ring, c.accountId, t.clock.now()));
    assert.equal(view?.iban, previous);
    assert.equal(view?.pending, false);
    assert.equal(await liveSessions(t, c.accountId), 0, 'every session ended');
    assert.equal((await intruder.get('/account')).statusCode, 303, 'the intruder is out');
    const last = (await fileEvents(t, c.accountId)).at(-1);
    assert.equal(last?.type, 'event.cancelled');
    assert.deepEqual(last?.actor, { kind: 'citizen', id: c.accountId });
    assert.equal(last?.sessionId, null);

    const confirmation = (await mailsFor(t, c.accountId)).find((m) => m.template === 'bank-details-change-cancelled');
    assert.equal(confirmation?.params.via, 'code');
    await mail.deliver();
    const sent = await mail.next(c.email, /a été annulé/);
    assert.match(sent.text, /toutes les sessions ouvertes sur votre compte ont été fermées/);
    assert.match(sent.text, /Mot de passe oublié/);
    const audit = await auditTypes(t, c.accountId, 'bank-details.change-cancelled');
    assert.equal(audit[0]?.payload.via, 'code');
    assert.ok(Number(audit[0]?.payload.sessionsEnded) >= 1);
    assert.equal((await rebuildAccount(t.deps.db, t.deps, c.accountId)).corrected, 0);
  });

  test('while citizen access is closed for an incident, the code still cancels the change', async () => {
    const { c, previous, code } = await changed();
    const operator = { kind: 'operator', name: 'oncall' } as const;
    await closeAccess(t.deps.db, t.clock, { by: operator, reason: 'INC-7' });
    try {
      const owner = new Browser(t);
      assert.equal((await owner.get('/login')).statusCode, 503, 'the rest of the site is closed');
      const page = await owner.get('/annuler-changement-bancaire');
      assert.equal(page.statusCode, 200);
      const res = await owner.post('/annuler-changement-bancaire', { nir: formatNir(c.nir), code });
      assert.match(res.body, /Le changement a été annulé/);
      const view = await system(t.deps.db, 'test', (tx) => readBankDetails(tx, t.deps.ring, c.accountId, t.clock.now()));
      assert.equal(view?.iban, previous);
      assert.equal(await liveSessions(t, c.accountId), 0);
    } finally {
      await openAccess(t.deps.db, t.clock, { by: operator });
    }
  });

  test('the English page, at its English address', async () => {
    const { c, code } = await changed();
    const owner = new Browser(t);
    owner.ip = '198.51.100.21';
    owner.headers['accept-language'] = 'en';
    const page = await owner.get('/cancel-bank-change');
    assert.match(page.body, /<h1>Cancel a change of bank details<\/h1>/);
    assert.match(page.body, /<form method="post" action="\/cancel-bank-change"/);
    const res = await owner.post('/cancel-bank-change', { nir: c.nir, code });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /The change has been cancelled/);
  });

  test('after the hold, the right code gets a clear "too late"; nothing changes', async () => {
    const { c, iban, code } = await changed();
    t.clock.advance(3 * DAY + 1000);
    const owner = new Browser(t);
    owner.ip = '198.51.100.22';
    await owner.get('/annuler-changement-bancaire');
    const res = await owner.post('/annuler-changement-bancaire', { nir: c.nir, code });
    assert.equal(res.statusCode, 410);
    assert.match(res.body, /Ce changement a déjà pris effet/);
    const view = await system(t.deps.db, 'test', (tx) => readBankDetails(tx, t.deps.ring, c.accountId, t.clock.now()));
    assert.equal(view?.iban, iban);
  });

  test('malformed NIR or code: the fields say so, in French and English, and nothing is tried', async () => {
    const owner = new Browser(t);
    owner.ip = '198.51.100.23';
    await owner.get('/annuler-changement-bancaire');
    const fr = await owner.post('/annuler-changement-bancaire', { nir: '1234', code: 'ABC' });
    assert.equal(fr.statusCode, 400);
    assert.ok(fieldError(fr.body, 'nir'));
    assert.match(fieldError(fr.body, 'code') ?? '', /Le code d’annulation compte 10 caractères/);
    assert.match(fr.body, /id="nir" name="nir" type="text" value="1234"/);
    const en = await owner.post('/cancel-bank-change?lang=en', { nir: '1234', code: 'ABC' });
    assert.match(fieldError(en.body, 'code') ?? '', /The cancellation code has 10 characters/);
  });
});
