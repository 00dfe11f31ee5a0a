import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { newId } from '../../src/crypto/random.ts';
import { system } from '../../src/db/contexts.ts';
import { appendEvent } from '../../src/file/events.ts';
import { checkPage as check, openPage } from '../support/browser.ts';
import { chromiumAppWithMail, logInWithMailedCode } from '../support/e2e.ts';
import { maskedIban, testIban } from '../support/french-ibans.ts';
import { citizenWithPassword, pastCoolingOff } from '../support/login.ts';
import { requirement } from '../support/requirements.ts';

/**
 * "My Account" in Chromium, as a beneficiary uses it: log in with the code from the delivered
 * mail, add a passkey (DevTools virtual authenticator), change phone and postal address,
 * change bank details through a step-up with the passkey (the form comes back by itself and
 * the change is held), file a quarterly income declaration, then download the export of the
 * whole file and find each change in it. axe-core on every page; no CSP violation, script
 * error or failed load. WebAuthn needs http://localhost (a secure context with a domain).
 */
describe('My Account in Chromium', requirement('chromium'), () => {
  const app = chromiumAppWithMail({ host: 'localhost' });

  test('contact details, bank details with a passkey step-up, a procedure, the export of my data', async () => {
    const c = await citizenWithPassword(app.t, { identity: { givenNames: 'Capucine', familyName: 'Bertrand' } });
    const oldIban = testIban(7001);
    const newIban = testIban(7002);
    // What the agency's import would have put in the file: bank details and payments.
    await system(app.t.deps.db, 'test', async (tx) => {
      const agency = { accountId: c.accountId, actor: { kind: 'agency', id: 'import' }, sessionId: null, level: null } as const;
      await appendEvent(tx, app.t.deps, { ...agency, type: 'bank-details.changed', after: { iban: oldIban, holder: 'Capucine Bertrand' } });
      for (const [n, date, status] of [[1, '2025-12-05', 'paid'], [2, '2026-02-05', 'scheduled']] as const) {
        await appendEvent(tx, app.t.deps, { ...agency, type: 'payment.recorded', key: newId(), after: { reference: `CAF-2025-${n}`, date, benefit: 'RSA', amountCents: 63_512, status, iban: null } });
      }
    });

    const { context, page, problems } = await openPage(app.browser, { locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
    try {
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });

      await logInWithMailedCode(page, app, c);
      assert.match((await page.textContent('main')) ?? '', /Capucine Bertrand/);
      await check(page, 'my-account-overview');

      // A passkey, added right after a login by code; its cooling-off waited out.
      await page.goto(`${app.base}/account/security/passkeys/new`);
      await page.fill('#name', 'Ordinateur de Capucine');
      await page.click('button[data-passkey-start]');
      await page.waitForURL(`${app.base}/account/security`);
      await pastCoolingOff(app.t, c.accountId);

      // Contact details: phone, then postal address.
      await page.goto(`${app.base}/account/contact`);
      await check(page, 'my-account-contact');
      await page.fill('#phone', '06 12 34 56 78');
      await page.click('form[action="/account/contact/phone"] button[type="submit"]');
      await page.waitForURL(`${app.base}/account/contact?done=phone-changed`);
      assert.equal((await page.textContent('#current-phone'))?.trim(), '06 12 34 56 78');
      await page.fill('#street', '14 rue des Lilas');
      await page.fill('#complement', '');
      await page.fill('#postcode', '35000');
      await page.fill('#city', 'Rennes');
      await page.click('form[action="/account/contact/address"] button[type="submit"]');
      await page.waitForURL(`${app.base}/account/contact?done=address-changed`);
      assert.match((await page.textContent('#current-address')) ?? '', /14 rue des Lilas.*35000 RENNES/i);
      await check(page, 'my-account-contact-changed');

      // Bank details: sensitive, so a step-up with the passkey; the form comes back and goes through.
      await page.goto(`${app.base}/account/bank-details`);
      assert.match((await page.textContent('main')) ?? '', new RegExp(maskedIban(oldIban).replace(/\*/g, '\\*')));
      await check(page, 'my-account-bank-details');
      await page.fill('#iban', newIban.replace(/(.{4})/g, '$1 ').trim());
      await page.fill('#holder', 'Capucine Bertrand');
      await page.click('form[action="/account/bank-details"] button[type="submit"]');
      await page.waitForURL(/\/step-up\/[0-9a-f-]{36}$/);
      await page.waitForSelector('button[data-passkey-start]', { state: 'visible' });
      await check(page, 'my-account-step-up');
      await page.click('button[data-passkey-start]');
      await page.waitForURL(`${app.base}/account/bank-details?done=changed`);
      const pending = (await page.textContent('#bank-pending')) ?? '';
      assert.ok(pending.includes(maskedIban(newIban)), 'the new IBAN, masked, is shown as held');
      assert.ok(!(await page.content()).includes(newIban), 'never in clear');
      await check(page, 'my-account-bank-details-held');

      // A procedure: the quarterly income declaration.
      await page.goto(`${app.base}/account/procedures`);
      await check(page, 'my-account-procedures');
      await page.click('a[href="/account/procedures/new/income-declaration"]');
      await page.waitForSelector('#quarter');
      await check(page, 'my-account-income-declaration');
      await page.selectOption('#quarter', '2025-Q4');
      await page.fill('#salaries-1', '850');
      await page.fill('#salaries-2', '1 020,50');
      await page.fill('#unemployment-3', '312');
      await page.click('#procedure-form button[type="submit"]');
      await page.waitForURL(/\/account\/procedures\/[0-9a-f-]{36}\?done=submitted$/);
      const reference = /D-\d{4}-[2-9A-HJ-NP-Z]{8}/.exec((await page.textContent('main')) ?? '')?.[0];
      assert.ok(reference, 'the procedure’s reference is given');
      await check(page, 'my-account-procedure-submitted');

      await page.goto(`${app.base}/account/payments`);
      assert.match((await page.textContent('main')) ?? '', /CAF-2025-1|635,12/);
      await check(page, 'my-account-payments');

      // The export: the step-up above is recent, so the download starts at once.
      await page.goto(`${app.base}/account/export`);
      await check(page, 'my-account-export');
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-form button[type="submit"]')]);
      assert.match(download.suggestedFilename(), /^sesame-export-\d{4}-\d{2}-\d{2}\.json$/);
      const path = await download.path();
      const text = await readFile(path, 'utf8');
      const doc = JSON.parse(text) as Record<string, unknown>;
      assert.equal(typeof doc, 'object');
      for (const expected of ['Bertrand', '+33612345678', '14 rue des Lilas', newIban, oldIban, reference, 'CAF-2025-1']) {
        assert.ok(text.includes(expected), `the export contains ${expected.startsWith('FR') ? 'the IBAN' : expected}`);
      }
      // Last, so that a problem there does not hide the rest: sessions, authenticators, login history.
      await page.goto(`${app.base}/account/security`);
      await check(page, 'my-account-security');

      // A download ends its navigation as "aborted": that one is the download itself, not a failure.
      const downloadAbort = `failed: ${app.base}/account/export net::ERR_ABORTED`;
      assert.deepEqual(
        problems.filter((p) => p !== downloadAbort),
        [],
        'no CSP violation, script error or failed load',
      );
    } finally {
      await context.close();
    }
  });
});
