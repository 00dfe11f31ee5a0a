import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/crypto/random.ts';
import { system } from '../../src/db/contexts.ts';
import { appendEvent } from '../../src/file/events.ts';
import { checkPage as check, openPage } from '../support/browser.ts';
import { chromiumAppWithMail, logInWithMailedCode } from '../support/e2e.ts';
import { citizenWithPassword } from '../support/login.ts';
import { requirement } from '../support/requirements.ts';

/**
 * The procedures in Chromium: a change of address refused field by field then filed, a
 * payment certificate and its printable page (what print hides), the payments on a phone's
 * screen, the overview in English. axe-core on every page; no CSP violation, script error or
 * failed load (a refused form is a 400 the test expects).
 */
describe('procedures in Chromium', requirement('chromium'), () => {
  const app = chromiumAppWithMail();

  test('forms with errors, a change of address, a certificate to print, payments on a small screen', async () => {
    const c = await citizenWithPassword(app.t, { identity: { givenNames: 'Noé', familyName: 'Fontaine' } });
    await system(app.t.deps.db, 'test', async (tx) => {
      for (const [date, amountCents] of [['2025-10-05', 60_775], ['2025-11-05', 61_000]] as const) {
        await appendEvent(tx, app.t.deps, { accountId: c.accountId, actor: { kind: 'agency', id: 'import' }, sessionId: null, level: null, type: 'payment.recorded', key: newId(), after: { reference: `CAF-${date}`, date, benefit: 'RSA', amountCents, status: 'paid', iban: null } });
      }
    });
    const { context, page, problems } = await openPage(app.browser, {
      locale: 'fr-FR',
      viewport: { width: 1280, height: 900 },
      allowStatus: (status, url) => status === 400 && url.endsWith('/account/procedures/new/address-change'),
    });
    try {
      await logInWithMailedCode(page, app, c);

      await page.goto(`${app.base}/account/procedures/new/address-change`);
      await check(page, 'procedures-address-form');
      await page.fill('#postalCode', '123');
      await page.click('#procedure-form button[type="submit"]');
      await page.waitForSelector('.fr-alert--error');
      assert.equal((await page.textContent('#street-messages'))?.trim(), 'Ce champ est obligatoire.');
      assert.equal(await page.inputValue('#postalCode'), '123', 'what was typed is kept');
      await check(page, 'procedures-address-errors');
      await page.fill('#street', '5 impasse des Mésanges');
      await page.fill('#postalCode', '44000');
      await page.fill('#city', 'Nantes');
      await page.fill('#moveDate', '2026-01-03');
      await page.click('#procedure-form button[type="submit"]');
      await page.waitForURL(/\/account\/procedures\/[0-9a-f-]{36}\?done=submitted$/);
      assert.match((await page.textContent('#procedure-address')) ?? '', /5 impasse des Mésanges, 44000 NANTES/);
      await check(page, 'procedures-address-filed');

      await page.goto(`${app.base}/account/procedures/new/payment-certificate`);
      await check(page, 'procedures-certificate-form');
      await page.selectOption('#from', '2025-10');
      await page.selectOption('#to', '2025-12');
      await page.click('#procedure-form button[type="submit"]');
      await page.waitForURL(/\/account\/procedures\/[0-9a-f-]{36}\?done=submitted$/);
      await page.click('a[href$="/certificate"]');
      await page.waitForSelector('#certified-payments');
      await check(page, 'procedures-certificate');
      assert.match((await page.textContent('#certificate-total')) ?? '', /1\s217,75\s€/);
      await page.emulateMedia({ media: 'print' });
      assert.equal(await page.isVisible('nav.fr-no-print'), false, 'the way back is not printed');
      assert.equal(await page.isVisible('#certified-payments'), true);
      await page.emulateMedia({ media: 'screen' });

      await page.goto(`${app.base}/account/procedures`);
      await check(page, 'procedures-list');

      await page.setViewportSize({ width: 375, height: 740 });
      await page.goto(`${app.base}/account/payments`);
      await check(page, 'payments-mobile');
      await page.goto(`${app.base}/account?lang=en`);
      assert.match((await page.textContent('h1')) ?? '', /My account/);
      await check(page, 'overview-en-mobile');

      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });
});
