import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { readBankDetails } from '../../src/file/projections/bank-details.ts';
import { rebuildAccount } from '../../src/file/rebuild.ts';
import { ibanProblem } from '../../src/file/iban.ts';
import { isValidIban } from '../../src/file/catalogue.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn, mailsFor } from '../support/login.ts';
import { fieldError } from '../support/flows.ts';
import { citizenWithApp } from '../support/totp.ts';
import { frenchIban, groupedIban, maskedIban, ribKey, testIban } from '../support/french-ibans.ts';
import { agencyBankDetails, auditTypes, cancelCodeIn, changeBankDetails, fileEvents, mailDelivery, shownIn } from '../support/contact-bank.ts';

/**
 * /account/bank-details: a change is a sensitive operation (step-up, the form kept), held for
 * the configured period during which payments keep going to the previous IBAN, notified by
 * mail with the way to cancel it; cancelled from the account with one button (no step-up),
 * refused once the hold is over. Every change and cancellation is a file event.
 */
const DAY = 24 * 3600 * 1000;

onEachBackend('bank details', ({ t, tdb }) => {
  let mail: Awaited<ReturnType<typeof mailDelivery>>;
  before(async () => {
    mail = await mailDelivery(t);
  });
  after(async () => {
    await mail.close();
  });
  const viewOf = (accountId: string) => system(t.deps.db, 'test', (tx) => readBankDetails(tx, t.deps.ring, accountId, t.clock.now()));
  let n = 100;

  async function citizenWithIban() {
    const { c, secret } = await citizenWithApp(t);
    const previous = testIban(++n);
    await agencyBankDetails(t, c.accountId, previous);
    const b = new Browser(t);
    await logIn(b, c);
    return { c, secret, b, previous };
  }

  test('without bank details: the page says so and offers the form, with the hold in words', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const page = await b.get('/account/bank-details');
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['cache-control']), /no-store/);
    assert.match(page.body, /Aucun IBAN n’est enregistré/);
    assert.match(page.body, /utilisé pour vos paiements 3 jours après le changement/);
    assert.match(page.body, /<form method="post" action="\/account\/bank-details" novalidate>\s*<input type="hidden" name="_csrf"/);
    const en = await b.get('/account/bank-details?lang=en');
    assert.match(en.body, /used for your payments 3 days after the change/);
  });

  test('a change: step-up, the form kept, held 3 days with the previous IBAN in force, notified with a cancellation code', async () => {
    const { c, secret, b, previous } = await citizenWithIban();
    const iban = testIban(++n);
    const page = await b.get('/account/bank-details');
    assert.match(page.body, new RegExp(maskedIban(previous).replace(/\*/g, '\\*')));
    assert.doesNotMatch(page.body, new RegExp(previous), 'the full IBAN is never on the page');
    const done = await changeBankDetails(b, c, secret, { iban: groupedIban(iban).toLowerCase(), holder: 'Camille  Martin' });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/account/bank-details?done=changed');
    const now = t.clock.now();

    const view = await viewOf(c.accountId);
    assert.ok(view?.pending);
    assert.equal(view.iban, iban, 'normalised: no spaces, upper case');
    assert.equal(view.holder, 'Camille Martin');
    assert.equal(view.effectiveAt?.getTime(), now.getTime() + 3 * DAY);
    assert.equal(view.previous?.iban, previous);

    const shown = await b.get('/account/bank-details?done=changed');
    assert.match(shown.body, /Vos coordonnées bancaires ont été modifiées/);
    assert.match(shown.body, /Changement en attente/);
    assert.match(shown.body, new RegExp(`Le nouvel IBAN ${maskedIban(iban).replace(/\*/g, '\\*')}`));
    assert.match(shown.body, new RegExp(`Jusque-là, vos paiements continuent d’être versés sur votre IBAN actuel ${maskedIban(previous).replace(/\*/g, '\\*')}`));
    assert.match(shown.body, /Ce délai de 3 jours vous protège/);
    assert.match(shown.body, /<button class="fr-btn fr-btn--secondary" type="submit">Annuler ce changement<\/button>/);
    assert.doesNotMatch(shown.body, /name="iban"/, 'one change at a time: no form while one is held');

    const [event] = (await fileEvents(t, c.accountId)).filter((e) => e.type === 'bank-details.changed' && e.actor.kind === 'citizen');
    assert.equal(event?.level, 'eidas2');
    assert.equal(event?.effectiveAt?.getTime(), now.getTime() + 3 * DAY);
    assert.deepEqual(event?.data.before, { iban: previous, holder: 'Camille Martin' });
    assert.deepEqual((await auditTypes(t, c.accountId, 'bank-details.%')).map((a) => a.type), ['bank-details.changed']);

    // The notice, over SMTP: masked IBAN, date, how to cancel (in the account, or with the code), no link.
    await mail.deliver();
    const notice = await mail.next(c.email, /coordonnées bancaires .* ont été modifiées/);
    assert.match(notice.text, new RegExp(maskedIban(iban).replace(/\*/g, '\\*')));
    assert.match(notice.text, /Annuler ce changement/);
    assert.match(notice.text, /localhost:8080\/annuler-changement-bancaire/);
    assert.match(notice.text, /numéro de sécurité sociale/);
    cancelCodeIn(notice.text);
    assert.doesNotMatch(notice.text + notice.html, /https?:\/\/|<a\s|href=/);
    assert.ok(!notice.text.includes(iban));
    const { rows } = await tdb.superuser(`SELECT expires_at, code_mac FROM bank_change_cancel_codes WHERE account_id = $1`, [c.accountId]);
    assert.equal(rows.length, 1);
    assert.equal((rows[0] as { expires_at: Date }).expires_at.getTime(), now.getTime() + 3 * DAY, 'the code dies with the hold');
    assert.ok(!JSON.stringify(rows).includes(cancelCodeIn(notice.text).replace('-', '')), 'stored as a MAC');
  });

  test('bad input comes back with its message, in French and English, before any step-up', async () => {
    const { b, c } = await citizenWithIban();
    const page = await b.get('/account/bank-details');
    const shown = shownIn(page.body, '/account/bank-details');
    const good = testIban(7);
    const checksum = good.slice(0, 2) + (good.slice(2, 4) === '00' ? '01' : '00') + good.slice(4);
    const bban = `3000600001${'00000000007'}`;
    const wrongKey = frenchIban(`${bban}${String((Number(ribKey('30006', '00001', '00000000007')) % 97) + 1).padStart(2, '0')}`);
    const cases: [string, string, RegExp, RegExp][] = [
      ['', 'Camille Martin', /Saisissez l’IBAN/, /Enter the IBAN/],
      [checksum, 'Camille Martin', /ses chiffres de contrôle ne correspondent pas/, /its check digits do not match/],
      [wrongKey, 'Camille Martin', /la clé RIB/, /the RIB key/],
      [good.slice(0, 25), 'Camille Martin', /Un IBAN de ce pays compte 27 caractères/, /An IBAN from this country has 27 characters/],
      ['BR1800360305000010009795493C1', 'Camille Martin', /zone SEPA/, /SEPA area/],
    ];
    for (const [iban, holder, fr, en] of cases) {
      const resFr = await b.post('/account/bank-details?lang=fr', { iban, holder, shown }, page.body);
      assert.equal(resFr.statusCode, 400, iban);
      assert.match(fieldError(resFr.body, 'iban') ?? '', fr);
      assert.match(resFr.body, /Les coordonnées bancaires n’ont pas été modifiées/);
      if (iban) assert.match(resFr.body, new RegExp(`id="iban" name="iban" type="text" value="${iban}"`), 'what was typed comes back');
      const resEn = await b.post('/account/bank-details?lang=en', { iban, holder, shown }, page.body);
      assert.match(fieldError(resEn.body, 'iban') ?? '', en);
    }
    const noHolder = await b.post('/account/bank-details?lang=fr', { iban: good, holder: ' ', shown }, page.body);
    assert.equal(noHolder.statusCode, 400);
    assert.equal(fieldError(noHolder.body, 'holder'), 'Saisissez le nom du titulaire du compte.');
    assert.equal((await fileEvents(t, c.accountId)).length, 1, 'only the agency’s: nothing was recorded');
    assert.ok(!(await mailsFor(t, c.accountId)).some((m) => m.template === 'bank-details-changed'));
  });

  test('cancelled from the account: no step-up, one button, the previous IBAN in force again, a confirmation mail', async () => {
    const { c, secret, b, previous } = await citizenWithIban();
    const iban = testIban(++n);
    assert.equal((await changeBankDetails(b, c, secret, { iban, holder: 'Camille Martin' })).statusCode, 303);
    // Long after the step-up (its eidas2 counts 5 minutes): cancelling needs none.
    t.clock.advance(20 * 60 * 1000);
    const page = await b.get('/account/bank-details');
    const change = /name="change" value="([0-9a-f-]{36})"/.exec(page.body)?.[1];
    assert.ok(change);
    const res = await b.post('/account/bank-details/cancel', { change });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/account/bank-details?done=cancelled');
    const view = await viewOf(c.accountId);
    assert.equal(view?.iban, previous);
    assert.equal(view?.pending, false);
    const after = await b.get('/account/bank-details?done=cancelled');
    assert.match(after.body, /Le changement a été annulé/);
    assert.match(after.body, /name="iban"/, 'the form is back');
    const events = await fileEvents(t, c.accountId);
    assert.equal(events.at(-1)?.type, 'event.cancelled');
    assert.equal(events.at(-1)?.cancels, change);
    const confirmation = (await mailsFor(t, c.accountId)).find((m) => m.template === 'bank-details-change-cancelled');
    assert.equal(confirmation?.params.via, 'account');
    assert.equal(confirmation?.params.keptMaskedIban, maskedIban(previous));
    const { rows } = await tdb.superuser(`SELECT revoked_at FROM bank_change_cancel_codes WHERE event_id = $1`, [change]);
    assert.ok((rows[0] as { revoked_at: Date | null }).revoked_at, 'the mailed code is of no more use');
    const audits = (await auditTypes(t, c.accountId, 'bank-details.%')).map((a) => a.type);
    assert.deepEqual(audits, ['bank-details.changed', 'bank-details.change-cancelled']);
    assert.equal((await rebuildAccount(t.deps.db, t.deps, c.accountId)).corrected, 0, 'projections equal the events');
  });

  test('after the hold: the new IBAN is in force and a cancellation is refused with a clear message', async () => {
    const { c, secret, b } = await citizenWithIban();
    const iban = testIban(++n);
    await changeBankDetails(b, c, secret, { iban, holder: 'Camille Martin' });
    const page = await b.get('/account/bank-details');
    const change = /name="change" value="([0-9a-f-]{36})"/.exec(page.body)?.[1] ?? '';
    assert.ok(change);
    t.clock.advance(3 * DAY + 1000);
    // The session is long over: the citizen logs in again, with the page they kept open.
    const again = new Browser(t);
    await logIn(again, c);
    const res = await again.post('/account/bank-details/cancel', { change }, (await again.get('/account/bank-details')).body);
    assert.equal(res.statusCode, 409);
    assert.match(res.body, /Ce changement ne peut plus être annulé/);
    const view = await viewOf(c.accountId);
    assert.equal(view?.iban, iban);
    assert.equal(view?.pending, false);
    assert.match(res.body, new RegExp(maskedIban(iban).replace(/\*/g, '\\*')));
  });

  test('one change at a time, the same IBAN again is no change, and a form drawn before a change is stale', async () => {
    const { c, secret, b, previous } = await citizenWithIban();
    const same = await changeBankDetails(b, c, secret, { iban: previous, holder: 'Camille Martin' });
    assert.equal(same.statusCode, 200);
    assert.match(same.body, /Ce sont déjà les coordonnées bancaires enregistrées/);
    const old = await b.get('/account/bank-details');
    assert.equal((await changeBankDetails(b, c, secret, { iban: testIban(++n), holder: 'Camille Martin' })).statusCode, 303);
    // The old page's form (still eidas2: no step-up) against a held change.
    const second = await b.post('/account/bank-details', { iban: testIban(++n), holder: 'Camille Martin', shown: shownIn(old.body, '/account/bank-details') }, old.body);
    assert.equal(second.statusCode, 409);
    assert.match(second.body, /Un changement est déjà en attente/);
    // Cancelled, the old form is stale (it showed the details before the change and cancellation… which are the same again: accepted).
    const change = /name="change" value="([0-9a-f-]{36})"/.exec(second.body)?.[1] ?? '';
    await b.post('/account/bank-details/cancel', { change }, second.body);
    await agencyBankDetails(t, c.accountId, testIban(++n));
    const stale = await b.post('/account/bank-details', { iban: testIban(++n), holder: 'Camille Martin', shown: shownIn(old.body, '/account/bank-details') }, old.body);
    assert.equal(stale.statusCode, 409);
    assert.match(stale.body, /Vos coordonnées bancaires ont changé entre-temps/);
  });

  test('IBAN rules: ISO 13616 check digits, lengths of SEPA countries, French RIB key', () => {
    assert.equal(ibanProblem('FR7630006000011234567890189'), null);
    assert.equal(ibanProblem('DE89370400440532013000'), null);
    assert.equal(ibanProblem('GB82WEST12345698765432'), null);
    assert.equal(ibanProblem('FR7630006000011234567890188'), 'checksum');
    assert.equal(ibanProblem('DE8937040044053201300'), 'length');
    // Right check digits on a wrong RIB key (90 for 89): only the French check catches it.
    assert.equal(ibanProblem(frenchIban('30006000011234567890190')), 'rib-key');
    assert.equal(isValidIban(frenchIban('30006000011234567890190')), false, 'file events refuse it too');
    assert.equal(ibanProblem('FR76 3000'), 'format');
  });
});

describe('bank details hold from the configuration', () => {
  onEachBackend('SESAME_BANK_HOLD_SECONDS=7200', () => ({ env: { SESAME_BANK_HOLD_SECONDS: '7200' } }), ({ t }) => {
    test('the hold is the configured one, shown to the citizen', async () => {
      const { c, secret } = await citizenWithApp(t);
      const b = new Browser(t);
      await logIn(b, c);
      const page = await b.get('/account/bank-details');
      assert.match(page.body, /utilisé pour vos paiements 2 heures après le changement/);
      assert.equal((await changeBankDetails(b, c, secret, { iban: testIban(42), holder: 'Camille Martin' })).statusCode, 303);
      const view = await system(t.deps.db, 'test', (tx) => readBankDetails(tx, t.deps.ring, c.accountId, t.clock.now()));
      assert.equal(view?.effectiveAt?.getTime(), t.clock.now().getTime() + 7200 * 1000);
      assert.match((await b.get('/account/bank-details')).body, /Ce délai de 2 heures vous protège/);
    });
  });
});
