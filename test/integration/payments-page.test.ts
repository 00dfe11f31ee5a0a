import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { appendEvent } from '../../src/file/events.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';
import { recordPayment, sectionById, setBankDetails, textOf } from '../support/beneficiary-file.ts';

/**
 * "Mes paiements": the agency's payments (recorded by `payment.recorded` events in a system
 * context, as the import does), newest first, with the benefit's name, the amount in the
 * page's language, the status and the IBAN paid to, masked. Only the citizen's own.
 */
onEachBackend('payments page', ({ t }) => {
  test('history newest first, in French: date, benefit, amount, status, masked IBAN; a later record of a payment replaces it', async () => {
    const c = await citizenWithPassword(t);
    const other = await citizenWithPassword(t, { identity: { givenNames: 'Autre', familyName: 'Personne' } });
    await setBankDetails(t, c.accountId, 'FR7630006000011234567890189', 'Camille Martin');
    await recordPayment(t, c.accountId, { date: '2025-11-05', amountCents: 60775, benefit: 'RSA', reference: 'P-NOV' });
    const dec = await recordPayment(t, c.accountId, { date: '2025-12-05', amountCents: 21050, benefit: 'APL', reference: 'P-DEC', status: 'scheduled' });
    await recordPayment(t, c.accountId, { date: '2026-02-05', amountCents: 15000, benefit: 'ZZZ', reference: 'P-FEB', status: 'scheduled', iban: 'DE89370400440532013000' });
    await recordPayment(t, other.accountId, { date: '2026-01-05', amountCents: 99999, reference: 'P-OTHER' });
    // The agency's later record of the December payment: paid now.
    await system(t.deps.db, 'test', (tx) =>
      appendEvent(tx, t.deps, { type: 'payment.recorded', accountId: c.accountId, key: dec, after: { reference: 'P-DEC', date: '2025-12-05', benefit: 'APL', amountCents: 21050, status: 'paid', iban: null }, actor: { kind: 'agency', id: 'caf-75' }, sessionId: null, level: null }),
    );

    const b = new Browser(t);
    await logIn(b, c);
    const page = await b.get('/account/payments');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>Mes paiements<\/h1>/);
    const rows = [...sectionById(page.body, 'payments', 'table').matchAll(/<tr data-payment="([^"]+)">([\s\S]*?)<\/tr>/g)].map((m) => [m[1], textOf(m[2] ?? '')]);
    assert.deepEqual(rows, [
      ['P-FEB', '5 février 2026 ZZZ 150,00 € Prévu DE89 **** **** **** **30 00'],
      ['P-DEC', '5 décembre 2025 Aide personnalisée au logement (APL) 210,50 € Versé FR76 **** **** **** **** ***0 189'],
      ['P-NOV', '5 novembre 2025 Revenu de solidarité active (RSA) 607,75 € Versé FR76 **** **** **** **** ***0 189'],
    ]);
    assert.ok(!page.body.includes('P-OTHER') && !page.body.includes('999,99'), 'no one else’s payment');
    assert.ok(!page.body.includes('FR7630006000011234567890189'), 'the IBAN only masked');
  });

  test('English labels and amounts; the empty state', async () => {
    const c = await citizenWithPassword(t);
    await recordPayment(t, c.accountId, { date: '2026-01-05', amountCents: 123456, benefit: 'PA' });
    const empty = await citizenWithPassword(t);
    const b = new Browser(t);
    b.headers['accept-language'] = 'en';
    await logIn(b, c);
    const page = await b.get('/account/payments');
    assert.match(page.body, /<h1>My payments<\/h1>/);
    assert.equal(textOf(sectionById(page.body, 'payments', 'table').replace(/<caption>[\s\S]*<\/thead>/, '')), '5 January 2026 Activity bonus (prime d’activité) €1,234.56 Paid Not given');

    const e = new Browser(t);
    await logIn(e, empty);
    const none = await e.get('/account/payments?lang=fr');
    assert.match(none.body, /id="no-payments"/);
    assert.match(none.body, /Aucun paiement n’est enregistré dans votre dossier pour le moment\./);
  });
});
