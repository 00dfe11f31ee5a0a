import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAccount } from '../../src/accounts/accounts.ts';
import { system } from '../../src/db/contexts.ts';
import { readEvents } from '../../src/file/events.ts';
import { readProcedure } from '../../src/file/projections/procedures.ts';
import { fieldError } from '../support/flows.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';
import { fileProcedure, sectionById, textOf } from '../support/beneficiary-file.ts';

/**
 * The procedures: the catalogue and the list, each form (validated field by field, sent back
 * as typed with messages in the citizen's language), what a submission records (one
 * procedure.submitted event; a change of address also changes the file's address in the same
 * transaction) and the detail page. The clock says 15 January 2026 (Paris).
 */

const ADDRESS = { street: '12 rue de la Paix', complement: 'Bâtiment B', postalCode: '75002', city: 'Paris', moveDate: '2026-01-10' };

onEachBackend('procedures: forms and submissions', ({ t }) => {
  async function loggedIn(locale?: 'en'): Promise<{ b: Browser; accountId: string }> {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    if (locale) b.headers['accept-language'] = 'en';
    await logIn(b, c);
    return { b, accountId: c.accountId };
  }

  test('the list page: the catalogue of forms, and an empty list', async () => {
    const { b } = await loggedIn();
    const page = await b.get('/account/procedures');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>Mes démarches<\/h1>/);
    for (const kind of ['address-change', 'income-declaration', 'payment-certificate']) assert.ok(page.body.includes(`href="/account/procedures/new/${kind}"`));
    assert.match(page.body, /id="no-procedures"/);
    assert.equal((await b.get('/account/procedures/new/pension-claim')).statusCode, 404, 'an unknown kind is not found');
  });

  test('change of address: filed, the file’s address changes in the same transaction, the detail page shows it', async () => {
    const { b, accountId } = await loggedIn();
    const form = await b.get('/account/procedures/new/address-change');
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /<form method="post" action="\/account\/procedures\/new\/address-change"/);
    assert.match(form.body, /name="_csrf"/);
    assert.match(form.body, /id="moveDate" name="moveDate" type="date"/);

    const { id, reference } = await fileProcedure(b, 'address-change', ADDRESS);
    assert.match(reference, /^D-2026-[2-9A-HJ-NP-Z]{8}$/);
    const detail = await b.get(`/account/procedures/${id}?done=submitted`);
    assert.match(detail.body, /Votre démarche a bien été envoyée/);
    assert.equal(textOf(sectionById(detail.body, 'procedure-address', 'dd')), '12 rue de la Paix, Bâtiment B, 75002 PARIS');
    assert.match(textOf(detail.body), /10 janvier 2026/);
    assert.match(sectionById(detail.body, 'procedure-status', 'dd'), /data-status="submitted"/);

    const { account, events, procedure } = await system(t.deps.db, 'test', async (tx) => ({
      account: await readAccount(tx, t.deps.ring, accountId),
      events: await readEvents(tx, t.deps.ring, accountId),
      procedure: await readProcedure(tx, t.deps.ring, accountId, id),
    }));
    assert.equal(account?.contact.postalAddress, '12 rue de la Paix\nBâtiment B\n75002 PARIS', 'as the contact page writes it');
    const mine = events.filter((e) => e.type === 'contact.address-changed' || e.type === 'procedure.submitted');
    assert.deepEqual(mine.map((e) => e.type), ['contact.address-changed', 'procedure.submitted']);
    assert.ok(mine.every((e) => e.actor.kind === 'citizen' && e.actor.id === accountId && e.sessionId !== null && e.level === 'eidas1'));
    assert.equal(procedure?.status, 'submitted');
    assert.deepEqual(procedure?.data, { street: '12 rue de la Paix', complement: 'Bâtiment B', postalCode: '75002', city: 'PARIS', moveDate: '2026-01-10' });
    const contact = await b.get('/account/contact');
    assert.ok(contact.body.includes('12 rue de la Paix') && contact.body.includes('Bâtiment B'), 'the contact page reads the new address back');

    const list = await b.get('/account/procedures');
    const row = textOf(sectionById(list.body, 'procedures', 'table'));
    assert.match(row, new RegExp(`${reference} Changement d’adresse 15 janvier 2026 Envoyée`));

    // The same address again changes nothing: refused with a message, not filed twice.
    await b.get('/account/procedures/new/address-change');
    const again = await b.post('/account/procedures/new/address-change', ADDRESS);
    assert.equal(again.statusCode, 400);
    assert.equal(fieldError(again.body, 'street'), 'C’est déjà l’adresse de votre dossier.');
  });

  test('change of address: each field validated, the form sent back as typed with French messages, nothing filed', async () => {
    const { b, accountId } = await loggedIn();
    await b.get('/account/procedures/new/address-change');
    const res = await b.post('/account/procedures/new/address-change', { street: '', complement: '<b>x</b>', postalCode: '00123', city: 'Lyon', moveDate: '2026-05-01' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /Votre démarche n’a pas été envoyée/);
    assert.equal(fieldError(res.body, 'street'), 'Ce champ est obligatoire.');
    assert.equal(fieldError(res.body, 'complement'), 'Utilisez des lettres, des chiffres, des espaces et la ponctuation d’une adresse.');
    assert.equal(fieldError(res.body, 'postalCode'), 'Saisissez un code postal français de 5 chiffres, par exemple 75002.');
    assert.equal(fieldError(res.body, 'moveDate'), 'Déclarez votre déménagement au plus 3 mois à l’avance.');
    assert.equal(fieldError(res.body, 'city'), undefined);
    assert.match(res.body, /id="city" name="city" type="text" value="Lyon"/, 'what was typed is kept');
    assert.match(res.body, /value="&lt;b&gt;x&lt;\/b&gt;"/, 'and escaped');
    const old = await b.post('/account/procedures/new/address-change', { ...ADDRESS, moveDate: '2024-12-31' }, res.body);
    assert.equal(fieldError(old.body, 'moveDate'), 'Un déménagement de plus d’un an se déclare auprès d’un conseiller.');
    const bad = await b.post('/account/procedures/new/address-change', { ...ADDRESS, moveDate: '2026-02-30' }, old.body);
    assert.equal(fieldError(bad.body, 'moveDate'), 'Saisissez une date valide, par exemple 14/07/2026.');
    const events = await system(t.deps.db, 'test', (tx) => readEvents(tx, t.deps.ring, accountId));
    assert.equal(events.length, 0, 'nothing was filed');
  });

  test('income declaration: English messages per field, amounts in euros with up to 2 decimals, sent back as typed', async () => {
    const { b } = await loggedIn('en');
    const form = await b.get('/account/procedures/new/income-declaration');
    assert.match(form.body, /<h1>Declare my income for the quarter<\/h1>/);
    const offered = [...form.body.matchAll(/<option value="(\d{4}-Q\d)"/g)].map((m) => m[1]);
    assert.deepEqual(offered, ['2026-Q1', '2025-Q4', '2025-Q3', '2025-Q2'], 'the current quarter and the three before it');
    assert.match(form.body, /First quarter 2026 \(January 2026 to March 2026\)/);

    const res = await b.post('/account/procedures/new/income-declaration', {
      quarter: '2026-Q2',
      'salaries-1': '1 234,567',
      'salaries-2': '-5',
      'salaries-3': '100000.01',
      'pensions-1': 'abc',
      'other-2': '12.5',
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /Your procedure was not sent/);
    assert.equal(fieldError(res.body, 'quarter'), 'Choose one of the quarters offered.');
    assert.equal(fieldError(res.body, 'salaries-1'), 'Enter an amount in euros with at most two decimals, for example 1234.56.');
    assert.equal(fieldError(res.body, 'salaries-2'), 'The amount cannot be negative.');
    assert.equal(fieldError(res.body, 'salaries-3'), 'The amount cannot exceed €100,000 a month.');
    assert.equal(fieldError(res.body, 'pensions-1'), 'Enter an amount in euros with at most two decimals, for example 1234.56.');
    assert.equal(fieldError(res.body, 'other-2'), undefined);
    assert.match(res.body, /id="salaries-1" name="salaries-1" type="text" inputmode="decimal" autocomplete="off" maxlength="20" value="1 234,567"/);
    assert.match(res.body, /id="other-2" name="other-2" [^>]*value="12.5"/);
  });

  test('income declaration: filed once per quarter; the detail page shows the amounts per month; the quarter is then no longer offered', async () => {
    const { b, accountId } = await loggedIn();
    const { id } = await fileProcedure(b, 'income-declaration', { quarter: '2025-Q4', 'salaries-1': '1 200,50', 'salaries-2': '1200', 'salaries-3': '0', 'unemployment-3': '350,25', 'other-1': '' });
    const procedure = await system(t.deps.db, 'test', (tx) => readProcedure(tx, t.deps.ring, accountId, id));
    assert.deepEqual(procedure?.data, {
      quarter: '2025-Q4',
      months: ['2025-10', '2025-11', '2025-12'],
      amounts: { salaries: [120050, 120000, 0], unemployment: [0, 0, 35025], pensions: [0, 0, 0], other: [0, 0, 0] },
      totalCents: 275075,
    });
    const detail = await b.get(`/account/procedures/${id}`);
    assert.match(textOf(detail.body), /4e trimestre 2025 \(octobre 2025 à décembre 2025\)/);
    const table = textOf(sectionById(detail.body, 'declared-income', 'table'));
    assert.match(table, /octobre 2025 novembre 2025 décembre 2025/);
    assert.match(table, /Salaires et revenus d’activité 1 200,50 € 1 200,00 € 0,00 €/);
    assert.match(table, /Allocations chômage 0,00 € 0,00 € 350,25 €/);
    assert.match(table, /Total déclaré 2 750,75 €/);

    const form = await b.get('/account/procedures/new/income-declaration');
    assert.doesNotMatch(form.body, /value="2025-Q4"/, 'a declared quarter is no longer offered');
    const twice = await b.post('/account/procedures/new/income-declaration', { quarter: '2025-Q4', 'salaries-1': '10' });
    assert.equal(twice.statusCode, 400);
    assert.equal(fieldError(twice.body, 'quarter'), 'Ce trimestre a déjà été déclaré.');

    for (const quarter of ['2026-Q1', '2025-Q3', '2025-Q2']) await fileProcedure(b, 'income-declaration', { quarter });
    const none = await b.get('/account/procedures/new/income-declaration');
    assert.match(none.body, /Vous avez déjà déclaré tous les trimestres/);
    assert.doesNotMatch(none.body, /id="procedure-form"/);
  });

  test('payment certificate: accepted at once; a period that ends before it starts, or longer than 24 months, is refused', async () => {
    const { b } = await loggedIn();
    const form = await b.get('/account/procedures/new/payment-certificate');
    assert.match(form.body, /<option value="2025-02" selected>février 2025<\/option>/, 'the last twelve months by default');
    assert.match(form.body, /<option value="2026-01" selected>janvier 2026<\/option>/);
    assert.doesNotMatch(form.body, /value="2026-02"/, 'no month in the future');
    const reversed = await b.post('/account/procedures/new/payment-certificate', { from: '2025-06', to: '2025-05' });
    assert.equal(fieldError(reversed.body, 'to'), 'Le dernier mois doit être le premier mois ou un mois après.');
    const long = await b.post('/account/procedures/new/payment-certificate', { from: '2023-02', to: '2026-01' }, reversed.body);
    assert.equal(fieldError(long.body, 'to'), 'La période ne peut pas dépasser 24 mois.');
    const future = await b.post('/account/procedures/new/payment-certificate', { from: '2026-01', to: '2026-03' }, long.body);
    assert.equal(fieldError(future.body, 'to'), 'Choisissez l’un des mois proposés.');

    const { id } = await fileProcedure(b, 'payment-certificate', { from: '2025-01', to: '2025-12' });
    const detail = await b.get(`/account/procedures/${id}`);
    assert.match(sectionById(detail.body, 'procedure-status', 'dd'), /data-status="accepted"/);
    assert.ok(detail.body.includes(`href="/account/procedures/${id}/certificate"`));
  });

  test('a form posted without its CSRF token is refused and files nothing', async () => {
    const { b, accountId } = await loggedIn();
    const res = await t.app.inject({
      method: 'POST',
      url: '/account/procedures/new/payment-certificate',
      cookies: b.jar.cookies(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'from=2025-01&to=2025-06',
    });
    assert.equal(res.statusCode, 403);
    const events = await system(t.deps.db, 'test', (tx) => readEvents(tx, t.deps.ring, accountId));
    assert.equal(events.length, 0);
  });
});
