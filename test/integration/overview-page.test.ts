import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';
import { citizenWithApp } from '../support/totp.ts';
import { fileProcedure, recordPayment, sectionById, setBankDetails, textOf } from '../support/beneficiary-file.ts';

/**
 * The overview (/account): the name, the next payment and the account it goes to (the one in
 * force on that day, the previous one while a change of bank details is held), the last three
 * procedures with their statuses, the security alerts, a link to every page of the area, and
 * the logout form. In French and in English.
 */
const IBAN_OLD = 'FR7630006000011234567890189';
const IBAN_NEW = 'FR7610107001011234567890129';

onEachBackend('overview page', ({ t }) => {
  test('French: name, next payment with its benefit, amount and masked IBAN, last three procedures, alerts, every section, logout', async () => {
    const c = await citizenWithPassword(t, { identity: { givenNames: 'Léa', familyName: 'Dupont' } });
    await setBankDetails(t, c.accountId, IBAN_OLD, 'Léa Dupont');
    await recordPayment(t, c.accountId, { date: '2026-01-05', amountCents: 60775, benefit: 'RSA', status: 'paid' });
    await recordPayment(t, c.accountId, { date: '2026-03-05', amountCents: 10000, benefit: 'APL', status: 'scheduled' });
    await recordPayment(t, c.accountId, { date: '2026-02-05', amountCents: 123456, benefit: 'PA', status: 'scheduled' });
    const b = new Browser(t);
    await logIn(b, c);
    const filed = [];
    for (const [from, to] of [['2025-01', '2025-03'], ['2025-04', '2025-06'], ['2025-07', '2025-09'], ['2025-10', '2025-12']] as const) {
      t.clock.advance(60_000);
      filed.push(await fileProcedure(b, 'payment-certificate', { from, to }));
    }

    const page = await b.get('/account');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>Mon compte<\/h1>/);
    assert.match(page.body, /<p class="fr-text--lead" id="account-name">Léa Dupont<\/p>/);

    const next = textOf(sectionById(page.body, 'next-payment', 'dl'));
    assert.match(next, /5 février 2026/);
    assert.match(next, /Prime d’activité/);
    assert.match(next, /1 234,56 €/);
    assert.match(next, /FR76 \*\*\*\* \*\*\*\* \*\*\*\* \*\*\*\* \*\*\*0 189/);

    const last = sectionById(page.body, 'last-procedures', 'ul');
    const shown = [...last.matchAll(/href="\/account\/procedures\/([0-9a-f-]{36})"/g)].map((m) => m[1]);
    assert.deepEqual(shown, filed.slice(1).reverse().map((p) => p.id), 'the three newest, newest first');
    assert.match(textOf(last), /Attestation de paiement, envoyée le 15 janvier 2026 Acceptée/);

    // No strong method yet: the invitation; and the login from this new browser is pointed out.
    assert.match(page.body, /id="alert-no-strong-method"/);
    assert.match(page.body, /href="\/account\/security#strong-title"/);
    assert.match(textOf(sectionById(page.body, 'alert-recent-activity', 'div')), /connexion depuis un navigateur inconnu/);
    assert.doesNotMatch(page.body, /id="alert-bank-pending"/);

    for (const href of ['/account/contact', '/account/bank-details', '/account/procedures', '/account/payments', '/account/security', '/account/export']) {
      assert.ok(page.body.includes(`href="${href}"`), `a link to ${href}`);
    }
    assert.match(page.body, /<form method="post" action="\/logout">/);
    assert.match(page.body, /Se déconnecter/);
  });

  test('English: the same facts, English words and amounts', async () => {
    const c = await citizenWithPassword(t, { identity: { givenNames: 'Tom', familyName: 'Leroy' } });
    await setBankDetails(t, c.accountId, IBAN_OLD, 'Tom Leroy');
    await recordPayment(t, c.accountId, { date: '2026-02-05', amountCents: 123456, benefit: 'AF', status: 'scheduled' });
    const b = new Browser(t);
    b.headers['accept-language'] = 'en-GB,en;q=0.8';
    await logIn(b, c);
    const page = await b.get('/account');
    assert.match(page.body, /<html lang="en">/);
    assert.match(page.body, /<h1>My account<\/h1>/);
    const next = textOf(sectionById(page.body, 'next-payment', 'dl'));
    assert.match(next, /5 February 2026/);
    assert.match(next, /Family allowance/);
    assert.match(next, /€1,234\.56/);
    assert.match(page.body, /id="last-procedures-none"/);
    assert.match(page.body, /You have not made any procedure online yet\./);
    assert.match(page.body, /Security alerts/);
    assert.match(page.body, /Log out|Sign out/);
  });

  test('a change of bank details on hold: the next payment still goes to the previous IBAN, and an alert says until when', async () => {
    const c = await citizenWithPassword(t);
    await setBankDetails(t, c.accountId, IBAN_OLD, 'Camille Martin');
    const until = new Date(t.clock.now().getTime() + 3 * 24 * 3600 * 1000);
    await setBankDetails(t, c.accountId, IBAN_NEW, 'Camille Martin', until);
    // Before the hold ends, and after it.
    await recordPayment(t, c.accountId, { date: '2026-01-16', amountCents: 5000, status: 'scheduled' });
    await recordPayment(t, c.accountId, { date: '2026-02-05', amountCents: 5000, status: 'scheduled' });
    const b = new Browser(t);
    await logIn(b, c);
    const page = await b.get('/account');
    assert.equal(textOf(sectionById(page.body, 'next-payment-iban', 'dd')), 'FR76 **** **** **** **** ***0 189', 'the IBAN in force on that day');
    const alert = textOf(sectionById(page.body, 'alert-bank-pending', 'div'));
    assert.match(alert, /FR76 \*\*\*\* \*\*\*\* \*\*\*\* \*\*\*\* \*\*\*0 129/, 'the new details');
    assert.match(alert, /FR76 \*\*\*\* \*\*\*\* \*\*\*\* \*\*\*\* \*\*\*0 189/, 'where payments go meanwhile');
    assert.match(alert, /18 janvier 2026/);
    assert.ok(!page.body.includes(IBAN_NEW) && !page.body.includes(IBAN_OLD), 'IBANs only masked');

    // Once the hold is over, the next payment goes to the new account and the alert is gone.
    t.clock.advance(3 * 24 * 3600 * 1000 + 1000);
    await logIn(b, c);
    const later = await b.get('/account');
    assert.equal(textOf(sectionById(later.body, 'next-payment-iban', 'dd')), 'FR76 **** **** **** **** ***0 129');
    assert.doesNotMatch(later.body, /id="alert-bank-pending"/);
  });

  test('with a strong method: no invitation; its addition is listed among the recent security events', async () => {
    const { c } = await citizenWithApp(t);
    const b = new Browser(t);
    await logIn(b, c);
    const page = await b.get('/account');
    assert.doesNotMatch(page.body, /id="alert-no-strong-method"/);
    const recent = sectionById(page.body, 'alert-recent-activity', 'div');
    assert.match(recent, /data-event="authenticator.added"/);
    assert.match(textOf(recent), /ajout d’une méthode de connexion \(application d’authentification\)/);
    assert.match(page.body, /id="next-payment-none"/);

    // Past 30 days, those events are no longer alerts.
    t.clock.advance(31 * 24 * 3600 * 1000);
    const b2 = new Browser(t);
    b2.jar.set('__Host-sesame-browser', b.jar.get('__Host-sesame-browser') ?? '');
    await logIn(b2, c);
    const quiet = await b2.get('/account');
    assert.doesNotMatch(quiet.body, /data-event="authenticator.added"/);
  });

  test('a usage name: the name the citizen goes by first, the birth name after it; in French and in English', async () => {
    const c = await citizenWithPassword(t, { identity: { givenNames: 'Inès', familyName: 'Moreau', usageName: 'Lefèvre' } });
    const b = new Browser(t);
    await logIn(b, c);
    const fr = await b.get('/account');
    assert.match(fr.body, /<p class="fr-text--lead fr-mb-1v" id="account-name">Inès Lefèvre<\/p>/);
    assert.match(fr.body, /<p class="fr-text--sm" id="account-birth-name">Nom de naissance : Moreau<\/p>/);
    b.headers['accept-language'] = 'en';
    const en = await b.get('/account');
    assert.match(en.body, /id="account-birth-name">Birth name: Moreau<\/p>/);
    // Without one, no second line (the first test's Léa Dupont neither).
    const plain = await citizenWithPassword(t, { identity: { givenNames: 'Jules', familyName: 'Moreau' } });
    const b2 = new Browser(t);
    await logIn(b2, plain);
    assert.doesNotMatch((await b2.get('/account')).body, /account-birth-name/);
  });
});
