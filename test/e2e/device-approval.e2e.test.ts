import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createMailWorker } from '../../src/mail/worker.ts';
import { siteFromConfig } from '../../src/mail/site.ts';
import { smtpTransport, type MailTransport } from '../../src/mail/transport.ts';
import { createLogger } from '../../src/logger.ts';
import { system } from '../../src/db/contexts.ts';
import { launchChromium, SCREENSHOTS, seriousAxeViolations, watch } from '../support/browser.ts';
import { requirement } from '../support/requirements.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { citizenWithPassword } from '../support/login.ts';
import { codeIn, smtpInbox } from '../support/smtp-inbox.ts';

/**
 * Two Chromium contexts, a phone and a computer: the phone registers itself (WebCrypto key
 * in IndexedDB) from a login by password + emailed code; the computer logs in with the
 * password and « Valider sur mon téléphone »; the citizen taps on the phone the number the
 * computer shows, and the computer lands on /account. Every page is checked with axe-core.
 */
describe('device approval in Chromium', requirement('chromium'), () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let inbox: Awaited<ReturnType<typeof smtpInbox>>;
  let transport: MailTransport;
  let stopWorker: () => Promise<void>;

  before(async () => {
    inbox = await smtpInbox();
    t = await testApp({ env: { SMTP_URL: inbox.url } });
    transport = smtpTransport(inbox.url);
    const worker = createMailWorker({
      db: t.deps.db,
      ring: t.deps.ring,
      clock: t.deps.clock,
      transport,
      from: t.deps.config.mailFrom,
      site: siteFromConfig(t.deps.config),
      logger: createLogger('silent'),
    });
    worker.start();
    stopWorker = () => worker.stop();
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await stopWorker?.();
    await transport?.close?.();
    await t?.close();
    await inbox?.close();
  });

  async function check(page: Page, name: string): Promise<void> {
    assert.deepEqual(await seriousAxeViolations(page), [], `no serious or critical axe violation on ${name}`);
    await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
  }

  async function context(mobile: boolean): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const ctx = await browser.newContext({ locale: 'fr-FR', viewport: mobile ? { width: 390, height: 844 } : { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    return { context: ctx, page, problems: watch(page) };
  }

  test('register the phone, then log in on the computer by picking the number on the phone', async () => {
    const c = await citizenWithPassword(t);
    const phone = await context(true);
    const computer = await context(false);
    try {
      // The phone: not registered, not logged in.
      await phone.page.goto(`${base}/device`);
      await phone.page.waitForSelector('#device-unregistered:not([hidden])');
      await check(phone.page, 'device-unregistered');

      // Logged in on the phone (password + emailed code), it registers itself.
      await phone.page.goto(`${base}/login`);
      await phone.page.fill('#nir', c.nir);
      await phone.page.fill('#password', c.password);
      await phone.page.click('main button[type="submit"]');
      await phone.page.click('button:has-text("Envoyer le code")');
      await phone.page.waitForSelector('#code');
      await phone.page.fill('#code', codeIn(await inbox.next(c.email, /code/i)));
      await phone.page.click('button:has-text("Valider")');
      await phone.page.waitForURL(`${base}/account`);
      await phone.page.goto(`${base}/device`);
      await phone.page.waitForSelector('#device-register');
      await check(phone.page, 'device-register');
      await phone.page.fill('#name', 'Téléphone de test');
      await phone.page.click('button:has-text("Enregistrer ce téléphone")');
      await phone.page.waitForURL(`${base}/device?done=registered`);
      await phone.page.waitForSelector('#device-registered:not([hidden])');
      await check(phone.page, 'device-registered');
      const added = await inbox.next(c.email, /./);
      assert.ok(added.subject, 'the owner is told of the new device');

      // The computer: password, then « Valider sur mon téléphone ».
      await computer.page.goto(`${base}/login`);
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
      await computer.page.waitForURL(`${base}/account`, { timeout: 15_000 });
      const level = await system(t.deps.db, 'test', (tx) =>
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
