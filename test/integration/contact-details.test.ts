import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAccount } from '../../src/accounts/accounts.ts';
import { parsePhone } from '../../src/account-area/contact/phone.ts';
import { addressForm, parseAddress } from '../../src/account-area/contact/address.ts';
import { system } from '../../src/db/contexts.ts';
import { rebuildAccount } from '../../src/file/rebuild.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';
import { fieldError } from '../support/flows.ts';
import { auditTypes, fileEvents, shownIn } from '../support/contact-bank.ts';

/**
 * /account/contact: the telephone and the postal address are changed at once, each change a
 * file event of the citizen's session; bad input comes back with its message in the page's
 * language and what was typed; a form drawn before another change is refused as stale.
 */
onEachBackend('contact details', ({ t }) => {
  const contactOf = (accountId: string) => system(t.deps.db, 'test', async (tx) => (await readAccount(tx, t.deps.ring, accountId))?.contact);

  test('the page shows the email, telephone and address on file, never cacheable', async () => {
    const c = await citizenWithPassword(t, { contact: { phone: '+33612345678', postalAddress: '3 place du Marché\n69002 LYON' } });
    const b = new Browser(t);
    await logIn(b, c);
    const page = await b.get('/account/contact');
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['cache-control']), /no-store/);
    assert.match(page.body, new RegExp(`<span id="current-email">${c.email.replace(/\./g, '\\.')}</span>`));
    assert.match(page.body, /<p id="current-phone">06 12 34 56 78<\/p>/);
    assert.match(page.body, /<p id="current-address">3 place du Marché<br>69002 LYON<\/p>/);
    assert.match(page.body, /aria-current="page">Coordonnées</);
    // Every form has its CSRF field.
    const forms = page.body.match(/<form method="post"[\s\S]*?<\/form>/g) ?? [];
    assert.ok(forms.length >= 3);
    for (const f of forms) assert.match(f, /name="_csrf"/);
  });

  test('change of telephone: stored in E.164, shown the French way, one event of this session, audited', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const page = await b.get('/account/contact');
    const res = await b.post('/account/contact/phone', { phone: '06.98.76.54.32', shown: shownIn(page.body, '/account/contact/phone') });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/account/contact?done=phone-changed');
    const after = await b.get(String(res.headers.location));
    assert.match(after.body, /Votre numéro de téléphone a été enregistré/);
    assert.match(after.body, /<p id="current-phone">06 98 76 54 32<\/p>/);
    assert.equal((await contactOf(c.accountId))?.phone, '+33698765432');
    const [event] = (await fileEvents(t, c.accountId)).filter((e) => e.type === 'contact.phone-changed');
    assert.ok(event);
    assert.deepEqual(event.actor, { kind: 'citizen', id: c.accountId });
    assert.equal(event.level, 'eidas1');
    assert.ok(event.sessionId);
    assert.deepEqual([event.data.before, event.data.after], [null, '+33698765432']);
    const audits = await auditTypes(t, c.accountId, 'contact.%');
    assert.deepEqual(audits.map((a) => a.type), ['contact.phone-changed']);
    assert.equal(audits[0]?.payload.eventId, event.id);
    assert.doesNotMatch(JSON.stringify(audits), /698765432/, 'the audit log carries ids, not the number');

    // Emptied: the number is removed.
    const removed = await b.post('/account/contact/phone', { phone: '', shown: shownIn(after.body, '/account/contact/phone') });
    assert.equal(removed.headers.location, '/account/contact?done=phone-removed');
    assert.equal((await contactOf(c.accountId))?.phone, null);
  });

  test('a bad telephone number comes back with its message, in French and in English, with what was typed', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const page = await b.get('/account/contact');
    const fr = await b.post('/account/contact/phone', { phone: '06 12 34', shown: shownIn(page.body, '/account/contact/phone') });
    assert.equal(fr.statusCode, 400);
    assert.match(fieldError(fr.body, 'phone') ?? '', /Un numéro français compte 10 chiffres/);
    assert.match(fr.body, /id="phone" name="phone" type="text" value="06 12 34"/);
    assert.match(fr.body, /Rien n’a été changé/);

    b.headers['accept-language'] = 'en';
    const en = await b.post('/account/contact/phone', { phone: '+1 23', shown: shownIn(page.body, '/account/contact/phone') });
    assert.equal(en.statusCode, 400);
    assert.match(fieldError(en.body, 'phone') ?? '', /An international number starts with \+/);
    assert.match(en.body, /Nothing was changed/);
    assert.equal((await contactOf(c.accountId))?.phone, null);
    assert.deepEqual(await fileEvents(t, c.accountId), []);
  });

  test('change of postal address: a structured form stored as lines; errors per field in both languages', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const page = await b.get('/account/contact');
    const shown = shownIn(page.body, '/account/contact/address');
    const bad = await b.post('/account/contact/address', { street: '', complement: '', postcode: '7501', city: 'Paris', country: 'France', shown });
    assert.equal(bad.statusCode, 400);
    assert.equal(fieldError(bad.body, 'street'), 'Ce champ est obligatoire.');
    assert.match(fieldError(bad.body, 'postcode') ?? '', /5 chiffres/);
    assert.match(bad.body, /id="city" name="city" type="text" value="Paris"/);
    const badEn = await b.post('/account/contact/address?lang=en', { street: '12 rue des Lilas', complement: '<script>', postcode: '75011', city: 'Paris', country: '', shown });
    assert.equal(badEn.statusCode, 400);
    assert.match(fieldError(badEn.body, 'complement') ?? '', /Use letters, digits, spaces/);
    assert.doesNotMatch(badEn.body, /<script>/, 'what was typed comes back escaped');

    const ok = await b.post('/account/contact/address', { street: ' 12  rue des Lilas ', complement: 'Bât. B, 3e étage', postcode: '75011', city: 'Paris', country: 'France', shown });
    assert.equal(ok.statusCode, 303);
    assert.equal((await contactOf(c.accountId))?.postalAddress, '12 rue des Lilas\nBât. B, 3e étage\n75011 PARIS');
    const after = await b.get('/account/contact');
    assert.match(after.body, /<p id="current-address">12 rue des Lilas<br>Bât\. B, 3e étage<br>75011 PARIS<\/p>/);
    // The form is filled again from what is stored.
    assert.match(after.body, /id="postcode" name="postcode" type="text" value="75011"/);

    const abroad = await b.post('/account/contact/address', { street: 'Rue de la Loi 16', complement: '', postcode: '1000', city: 'Bruxelles', country: 'Belgique', shown: shownIn(after.body, '/account/contact/address') });
    assert.equal(abroad.statusCode, 303);
    assert.equal((await contactOf(c.accountId))?.postalAddress, 'Rue de la Loi 16\n1000 BRUXELLES\nBELGIQUE');
  });

  test('a form drawn before another change is refused as stale, the current value shown and what was typed kept', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const tabA = await b.get('/account/contact');
    const tabB = await b.get('/account/contact');
    assert.equal((await b.post('/account/contact/phone', { phone: '0612345678', shown: shownIn(tabA.body, '/account/contact/phone') })).statusCode, 303);
    const stale = await b.post('/account/contact/phone', { phone: '0699999999', shown: shownIn(tabB.body, '/account/contact/phone') }, tabB.body);
    assert.equal(stale.statusCode, 409);
    assert.match(stale.body, /Vos coordonnées ont changé entre-temps/);
    assert.match(stale.body, /<p id="current-phone">06 12 34 56 78<\/p>/);
    assert.match(stale.body, /value="0699999999"/);
    assert.equal((await contactOf(c.accountId))?.phone, '+33612345678');
    // The same value again: nothing to record.
    const same = await b.post('/account/contact/phone', { phone: '+33 6 12 34 56 78', shown: shownIn(stale.body, '/account/contact/phone') });
    assert.equal(same.statusCode, 200);
    assert.match(same.body, /C’est déjà la valeur enregistrée/);
    assert.equal((await fileEvents(t, c.accountId)).length, 1);
  });

  test('the projections equal the events after a rebuild', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    let page = await b.get('/account/contact');
    await b.post('/account/contact/phone', { phone: '01 23 45 67 89', shown: shownIn(page.body, '/account/contact/phone') });
    page = await b.get('/account/contact');
    await b.post('/account/contact/address', { street: '1 rue de la Paix', complement: '', postcode: '75002', city: 'Paris', country: '', shown: shownIn(page.body, '/account/contact/address') });
    const before = await contactOf(c.accountId);
    const report = await rebuildAccount(t.deps.db, t.deps, c.accountId);
    assert.equal(report.corrected, 0, 'nothing to correct: the projection is what the events say');
    assert.deepEqual(await contactOf(c.accountId), before);
  });

  test('telephone rules: French, overseas and international numbers', () => {
    const ok = (s: string) => {
      const r = parsePhone(s);
      return r.ok ? r.e164 : r.problem;
    };
    assert.equal(ok('06 12 34 56 78'), '+33612345678');
    assert.equal(ok('+33 (0)6 12 34 56 78'), '+33612345678');
    assert.equal(ok('0033 6 12 34 56 78'), '+33612345678');
    assert.equal(ok('+33 06 12 34 56 78'), '+33612345678');
    assert.equal(ok('0692 12 34 56'), '+262692123456');
    assert.equal(ok('0590 12 34 56'), '+590590123456');
    assert.equal(ok('+32 470 12 34 56'), '+32470123456');
    assert.equal(ok('+1 415 555 2671'), '+14155552671');
    assert.equal(ok('6 12 34 56 78'), 'format');
    assert.equal(ok('06 12 34 56'), 'french-length');
    assert.equal(ok('+33 6 12'), 'french-length');
    assert.equal(ok('+44 12'), 'international-length');
    assert.equal(ok('06 12 34 56 7a'), 'format');
  });

  test('address rules: French postcode, lengths, and stored addresses read back into the form', () => {
    assert.deepEqual(parseAddress({ street: 'x'.repeat(39), complement: '', postcode: '00100', city: 'Paris', country: '' }), { ok: false, errors: { street: 'too-long', postcode: 'french-postcode' } });
    const stored = parseAddress({ street: '5 chemin des Vignes', complement: 'Lieu-dit Les Granges', postcode: '97400', city: 'Saint-Denis', country: 'france' });
    assert.ok(stored.ok);
    assert.equal(stored.value, '5 chemin des Vignes\nLieu-dit Les Granges\n97400 SAINT-DENIS');
    assert.deepEqual(addressForm(stored.value), { street: '5 chemin des Vignes', complement: 'Lieu-dit Les Granges', postcode: '97400', city: 'SAINT-DENIS', country: '' });
    assert.deepEqual(addressForm('Rue de la Loi 16\n1000 BRUXELLES\nBELGIQUE'), { street: 'Rue de la Loi 16', complement: '', postcode: '1000', city: 'BRUXELLES', country: 'BELGIQUE' });
    // Written otherwise by the agency: the lines land in the first fields, for the citizen to correct.
    assert.deepEqual(addressForm('1 rue Isoq, 93100 MONTREUIL'), { street: '1 rue Isoq', complement: '', postcode: '93100', city: 'MONTREUIL', country: '' });
    assert.deepEqual(addressForm('Résidence des Pins, app 4'), { street: 'Résidence des Pins, app 4', complement: '', postcode: '', city: '', country: '' });
  });
});
