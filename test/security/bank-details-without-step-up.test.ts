import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { readBankDetails } from '../../src/file/projections/bank-details.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn, mailsFor } from '../support/login.ts';
import { citizenWithApp } from '../support/totp.ts';
import { forgedPost } from '../support/attack-requests.ts';
import { testIban } from '../support/french-ibans.ts';
import { agencyBankDetails, changeBankDetails, fileEvents, shownIn, stepUpWithApp } from '../support/contact-bank.ts';

/**
 * Diverting benefits with a phished password and login code (FranceConnect, 2022): the change of
 * bank details needs eidas2 within the last minutes, which password + email code never is; the
 * form alone, forged or replayed later, changes nothing.
 */
onEachBackend('bank details without step-up', ({ t, tdb }) => {
  const viewOf = (accountId: string) => system(t.deps.db, 'test', (tx) => readBankDetails(tx, t.deps.ring, accountId, t.clock.now()));
  const nothingRecorded = async (accountId: string) => {
    assert.ok(!(await fileEvents(t, accountId)).some((e) => e.actor.kind === 'citizen'), 'no change recorded');
    assert.ok(!(await mailsFor(t, accountId)).some((m) => m.template === 'bank-details-changed'), 'no notice');
    assert.equal((await tdb.superuser(`SELECT 1 FROM bank_change_cancel_codes WHERE account_id = $1`, [accountId])).rows.length, 0);
  };

  test('password + email code (eidas1) is sent to the step-up, and nothing changes', async () => {
    const { c } = await citizenWithApp(t);
    const previous = testIban(501);
    await agencyBankDetails(t, c.accountId, previous);
    const b = new Browser(t);
    await logIn(b, c);
    const page = await b.get('/account/bank-details');
    const res = await b.post('/account/bank-details', { iban: testIban(502), holder: 'Intrus', shown: shownIn(page.body, '/account/bank-details') });
    assert.equal(res.statusCode, 303);
    assert.match(String(res.headers.location), /^\/step-up\//);
    assert.equal((await viewOf(c.accountId))?.iban, previous);
    await nothingRecorded(c.accountId);
  });

  test('an account without a strong method cannot change its bank details with email codes alone', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const page = await b.get('/account/bank-details');
    const res = await b.post('/account/bank-details', { iban: testIban(503), holder: 'Camille Martin', shown: shownIn(page.body, '/account/bank-details') });
    const stepUp = String(res.headers.location);
    assert.match(stepUp, /^\/step-up\//);
    const offered = await b.get(stepUp);
    assert.match(offered.body, /Vous n’avez pas encore de méthode de connexion renforcée/);
    assert.doesNotMatch(offered.body, /name="password"/);
    await nothingRecorded(c.accountId);
  });

  test('a step-up older than 5 minutes is asked again', async () => {
    const { c, secret } = await citizenWithApp(t);
    const b = new Browser(t);
    await logIn(b, c);
    // A step-up for something else…
    const page = await b.get('/account/bank-details');
    const first = await b.post('/account/bank-details', { iban: 'FR76', holder: '', shown: shownIn(page.body, '/account/bank-details') });
    assert.equal(first.statusCode, 400, 'bad input is refused before any step-up');
    const asked = await b.post('/account/bank-details', { iban: testIban(504), holder: 'Camille Martin', shown: shownIn(page.body, '/account/bank-details') }, page.body);
    await stepUpWithApp(b, c, secret, String(asked.headers.location));
    // …and the kept form left unsent: 6 minutes later, the same post is sent to the step-up again.
    t.clock.advance(6 * 60 * 1000);
    const later = await b.get('/account/bank-details');
    const res = await b.post('/account/bank-details', { iban: testIban(504), holder: 'Camille Martin', shown: shownIn(later.body, '/account/bank-details') });
    assert.match(String(res.headers.location), /^\/step-up\//);
    await nothingRecorded(c.accountId);
  });

  test('a forged cross-site post changes nothing, nor cancels anything (CSRF on both forms)', async () => {
    const { c, secret } = await citizenWithApp(t);
    const b = new Browser(t);
    await logIn(b, c);
    const forged = await forgedPost(t.app, '/account/bank-details', { jar: b.jar, fields: { iban: testIban(505), holder: 'Intrus' } });
    assert.equal(forged.statusCode, 403);
    await nothingRecorded(c.accountId);
    assert.equal((await changeBankDetails(b, c, secret, { iban: testIban(506), holder: 'Camille Martin' })).statusCode, 303);
    const change = /name="change" value="([0-9a-f-]{36})"/.exec((await b.get('/account/bank-details')).body)?.[1] ?? '';
    const cancel = await forgedPost(t.app, '/account/bank-details/cancel', { jar: b.jar, fields: { change } });
    assert.equal(cancel.statusCode, 403);
    assert.equal((await viewOf(c.accountId))?.pending, true);
  });

  test('another citizen cannot cancel this account’s change by its id', async () => {
    const { c, secret } = await citizenWithApp(t);
    const b = new Browser(t);
    await logIn(b, c);
    assert.equal((await changeBankDetails(b, c, secret, { iban: testIban(507), holder: 'Camille Martin' })).statusCode, 303);
    const change = /name="change" value="([0-9a-f-]{36})"/.exec((await b.get('/account/bank-details')).body)?.[1] ?? '';
    const other = await citizenWithPassword(t);
    const o = new Browser(t);
    await logIn(o, other);
    await o.get('/account/bank-details');
    const res = await o.post('/account/bank-details/cancel', { change });
    assert.equal(res.statusCode, 409);
    assert.match(res.body, /Aucun changement n’est en attente/);
    assert.equal((await viewOf(c.accountId))?.pending, true, 'the victim’s change is untouched');
    assert.equal((await fileEvents(t, other.accountId)).length, 0);
  });
});
