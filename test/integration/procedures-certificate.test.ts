import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';
import { AGENCY, fileProcedure, recordPayment, sectionById, textOf } from '../support/beneficiary-file.ts';
import { newId } from '../../src/crypto/random.ts';
import { system } from '../../src/db/contexts.ts';
import { appendEvent } from '../../src/file/events.ts';
import { submitProcedure } from '../../src/file/procedures/submit.ts';

/**
 * The payment certificate: a printable page (its own print stylesheet, no script) that lists
 * the payments actually made in the period chosen, from the payments projection, with the
 * beneficiary's identity, the reference and the day it was issued.
 */
onEachBackend('payment certificate', ({ t }) => {
  test('lists the paid payments of the period, oldest first, with their total; identity, reference, issue date; printable without script', async () => {
    const c = await citizenWithPassword(t, { identity: { givenNames: 'Inès', familyName: 'Garnier', birthDate: '1990-03-01' } });
    await recordPayment(t, c.accountId, { date: '2024-12-05', amountCents: 11100, reference: 'BEFORE' });
    await recordPayment(t, c.accountId, { date: '2025-06-05', amountCents: 20000, benefit: 'APL', reference: 'JUNE' });
    await recordPayment(t, c.accountId, { date: '2025-01-05', amountCents: 60775, benefit: 'RSA', reference: 'JANUARY' });
    await recordPayment(t, c.accountId, { date: '2025-06-10', amountCents: 33300, status: 'cancelled', reference: 'CANCELLED' });
    await recordPayment(t, c.accountId, { date: '2025-12-28', amountCents: 44400, status: 'scheduled', reference: 'SCHEDULED' });
    await recordPayment(t, c.accountId, { date: '2026-01-05', amountCents: 55500, reference: 'AFTER' });
    const b = new Browser(t);
    await logIn(b, c);
    const { id, reference } = await fileProcedure(b, 'payment-certificate', { from: '2025-01', to: '2025-12' });

    const page = await b.get(`/account/procedures/${id}/certificate`);
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /<h1>Attestation de paiement<\/h1>/);
    assert.match(page.body, /<link rel="stylesheet" href="\/assets\/certificate\.css\?v=[0-9a-f]+">/);
    assert.doesNotMatch(page.body, /<script/, 'nothing to run: the browser prints it');
    assert.match(page.body, /<nav class="fr-no-print/, 'the way back is not printed');
    assert.equal(textOf(sectionById(page.body, 'certificate-reference', 'span')), reference);
    assert.equal(textOf(sectionById(page.body, 'certificate-issued', 'dd')), '15 janvier 2026');
    assert.equal(textOf(sectionById(page.body, 'certificate-period', 'dd')), 'De 1er janvier 2025 à 31 décembre 2025');
    assert.equal(textOf(sectionById(page.body, 'certificate-beneficiary', 'dd')), 'Inès Garnier');
    assert.match(textOf(page.body), /Né\(e\) le 1er mars 1990/);
    const rows = [...sectionById(page.body, 'certified-payments', 'table').matchAll(/<tr><td>([\s\S]*?)<\/tr>/g)].map((m) => textOf(m[1] ?? ''));
    assert.deepEqual(rows, ['5 janvier 2025 Revenu de solidarité active (RSA) 607,75 €', '5 juin 2025 Aide personnalisée au logement (APL) 200,00 €']);
    assert.equal(textOf(sectionById(page.body, 'certificate-total', 'td')), '807,75 €');

    const css = await t.app.inject({ url: /href="(\/assets\/certificate\.css\?v=[0-9a-f]+)"/.exec(page.body)?.[1] ?? '' });
    assert.equal(css.statusCode, 200);
    assert.match(css.body, /@media print/);
  });

  test('in English; a period without payments says so', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    b.headers['accept-language'] = 'en';
    await logIn(b, c);
    const { id } = await fileProcedure(b, 'payment-certificate', { from: '2025-03', to: '2025-04' });
    const page = await b.get(`/account/procedures/${id}/certificate`);
    assert.match(page.body, /<html lang="en">/);
    assert.match(page.body, /<h1>Payment certificate<\/h1>/);
    assert.equal(textOf(sectionById(page.body, 'certificate-period', 'dd')), 'From 1 March 2025 to 30 April 2025');
    assert.match(page.body, /id="certificate-none">No payment was made over this period\./);
  });

  test('what a certificate certified is kept from its issue: a payment recorded late or cancelled afterwards does not change it; one issued before snapshots reads the file', async () => {
    const c = await citizenWithPassword(t, { identity: { givenNames: 'Jules', familyName: 'Perrin', birthDate: '1985-07-14' } });
    const january = await recordPayment(t, c.accountId, { date: '2025-01-05', amountCents: 10000, benefit: 'RSA', reference: 'JAN' });
    const b = new Browser(t);
    await logIn(b, c);
    const { id } = await fileProcedure(b, 'payment-certificate', { from: '2025-01', to: '2025-12' });
    const listed = async (procedureId: string): Promise<string[]> => {
      const page = await b.get(`/account/procedures/${procedureId}/certificate`);
      assert.equal(page.statusCode, 200);
      return [...sectionById(page.body, 'certified-payments', 'table').matchAll(/<tr><td>([\s\S]*?)<\/tr>/g)].map((m) => textOf(m[1] ?? ''));
    };
    assert.deepEqual(await listed(id), ['5 janvier 2025 Revenu de solidarité active (RSA) 100,00 €']);

    // Afterwards, the agency records a March payment late and cancels January's.
    await recordPayment(t, c.accountId, { date: '2025-03-05', amountCents: 20000, benefit: 'APL', reference: 'MARCH' });
    await system(t.deps.db, 'test', (tx) =>
      appendEvent(tx, t.deps, { type: 'payment.recorded', accountId: c.accountId, key: january, after: { reference: 'JAN', benefit: 'RSA', status: 'cancelled', iban: null, date: '2025-01-05', amountCents: 10000 }, actor: AGENCY, sessionId: null, level: null }),
    );
    assert.deepEqual(await listed(id), ['5 janvier 2025 Revenu de solidarité active (RSA) 100,00 €'], 'the issued certificate says the same');

    // A certificate filed before certificates kept what they certified: read from the file as it is.
    const legacy = await system(t.deps.db, 'test', (tx) =>
      submitProcedure(tx, t.deps, { accountId: c.accountId, sessionId: newId(), level: 'eidas1', kind: 'payment-certificate', data: { from: '2025-01', to: '2025-12' }, status: 'accepted' }),
    );
    assert.deepEqual(await listed(legacy.id), ['5 mars 2025 Aide personnalisée au logement (APL) 200,00 €']);
  });

  test('no certificate for another kind of procedure: the ordinary 404', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const { id } = await fileProcedure(b, 'income-declaration', { quarter: '2025-Q4', 'salaries-1': '100' });
    const res = await b.get(`/account/procedures/${id}/certificate`);
    assert.equal(res.statusCode, 404);
    assert.match(res.body, /Page non trouvée/);
  });
});
