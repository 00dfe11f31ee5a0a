import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { checkPage as check, openPage } from '../support/browser.ts';
import { chromiumAppWithMail, logInWithMailedCode } from '../support/e2e.ts';
import { requirement } from '../support/requirements.ts';
import { citizenWithPassword } from '../support/login.ts';

/**
 * Two Chromium contexts, a phone and a computer: the phone registers itself (WebCrypto key
 * in IndexedDB) from a login by password + emailed code; the computer logs in with the
 * password and « Valider sur mon téléphone »; the citizen taps on the phone the number the
 * computer shows, and the computer lands on /account. Every page is checked with axe-core.
 */
describe('device approval in Chromium', requirement('chromium'), () => {
  const app = chromiumAppWithMail();

  function context(mobile: boolean): ReturnType<typeof openPage> {
    return openPage(app.browser, { locale: 'fr-FR', viewport: mobile ? { width: 390, height: 844 } : { width: 1280, height: 900 } });
  }

  test('register the phone, then log in on the computer by picking the number on the phone', async () => {
    const c = await citizenWithPassword(app.t);
    const phone = await context(true);
    const computer = await context(false);
    try {
      // The phone: not registered, not logged in.
      await phone.page.goto(`${app.base}/device`);
      await phone.page.waitForSelector('#device-unregistered:not([hidden])');
      await check(phone.page, 'device-unregistered');

      // Logged in on the phone (password + emailed code), it registers itself.
      await logInWithMailedCode(phone.page, app, c);
      await phone.page.goto(`${app.base}/device`);
      await phone.page.waitForSelector('#device-register');
      await check(phone.page, 'device-register');
      await phone.page.fill('#name', 'Téléphone de test');
      await phone.page.click('button:has-text("Enregistrer ce téléphone")');
      await phone.page.waitForURL(`${app.base}/device?done=registered`);
      await phone.page.waitForSelector('#device-registered:not([hidden])');
      await check(phone.page, 'device-registered');
      const added = await app.inbox.next(c.email, /./);
      assert.ok(added.subject, 'the owner is told of the new device');

      // The computer: password, then « Valider sur mon téléphone ».
      await computer.page.goto(`${app.base}/login`);
      await computer.page.fill('#nir', c.nir);
      await computer.page.fill('#password', c.password);
      await computer.page.click('main button[type="submit"]');
      await computer.page.click('a:has-text("Valider sur mon téléphone")');
      await computer.page.waitForSelector('button:has-text("Envoyer la demande à mon téléphone")');
      await check(computer.page, 'device-start');
      await computer.page.click('button:has-text("Envoyer la demande à mon téléphone")');
      await computer.page.waitForSelector('#approval-number');
      await check(computer.page, 'device-wait');
      const number = ((await computer.page.textContent('#approval-number')) ?? '').trim();
      assert.match(number, /^\d{2}$/);

      // The phone shows the request (polling) with three numbers; the citizen taps the right one.
      await phone.page.waitForSelector('[data-request]');
      assert.match((await phone.page.textContent('[data-request]')) ?? '', /inconnu/);
      assert.equal(await phone.page.locator('[data-request] [data-number]').count(), 3);
      await check(phone.page, 'device-request');
      await phone.page.click(`[data-request] [data-number]:text-is("${number}")`);
      await phone.page.waitForSelector('#device-status:has-text("Connexion validée")');

      // The computer's page sees it and finishes the login.
      await computer.page.waitForURL(`${app.base}/account`, { timeout: 15_000 });
      const level = await system(app.t.deps.db, 'test', (tx) =>
        tx.query<{ level: string; amr: string[] }>(`SELECT level, amr FROM sessions WHERE account_id = $1 AND level = 'eidas2'`, [c.accountId]),
      );
      assert.deepEqual(level.rows.map((r) => r.amr), [['mfa', 'pwd', 'swk']]);
      // An image still loading when the page navigates on is aborted by the browser: not a fault.
      const real = (problems: string[]): string[] => problems.filter((p) => !/^failed: .* net::ERR_ABORTED$/.test(p));
      assert.deepEqual(real(phone.problems), [], 'phone: no CSP violation, script error or failed load');
      assert.deepEqual(real(computer.problems), [], 'computer: no CSP violation, script error or failed load');
    } finally {
      await phone.context.close();
      await computer.context.close();
    }
  });
});
