import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createMailWorker } from '../../src/mail/worker.ts';
import { siteFromConfig } from '../../src/mail/site.ts';
import { smtpTransport, type MailTransport } from '../../src/mail/transport.ts';
import { createLogger } from '../../src/logger.ts';
import { formatNir } from '../../src/accounts/nir.ts';
import { launchChromium, SCREENSHOTS, seriousAxeViolations, watch } from '../support/browser.ts';
import { requirement } from '../support/requirements.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { citizenWithPassword } from '../support/login.ts';
import { newAccount, person } from '../support/fixtures.ts';
import { codeIn, smtpInbox } from '../support/smtp-inbox.ts';

/**
 * A citizen in Chromium, mail through a real SMTP server: activation, login with the code
 * read from the delivered mail, logout, recovery. Every page is checked with axe-core.
 */
describe('citizen login in Chromium', requirement('chromium'), () => {
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

  /** Checks the page (axe, title) and keeps a screenshot. */
  async function check(page: Page, name: string): Promise<void> {
    assert.deepEqual(await seriousAxeViolations(page), [], `no serious or critical axe violation on ${name}`);
    await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
  }

  async function newPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    return { context, page, problems: watch(page) };
  }

  async function logInWithCode(page: Page, nir: string, password: string, email: string, shots: string): Promise<void> {
    await page.goto(`${base}/login`);
    if (shots) await check(page, `${shots}-login`);
    await page.fill('#nir', nir);
    await page.fill('#password', password);
    await page.click('button:has-text("Se connecter")');
    await page.waitForSelector('button:has-text("Envoyer le code")');
    assert.match((await page.textContent('main')) ?? '', /\*\*\*@/, 'the masked address is shown');
    if (shots) await check(page, `${shots}-send-code`);
    await page.click('button:has-text("Envoyer le code")');
    await page.waitForSelector('#code');
    assert.ok(await page.isDisabled('button:has-text("Renvoyer le code")'), 'resend is disabled during the cooldown');
    if (shots) await check(page, `${shots}-enter-code`);
    const mail = await inbox.next(email, /code/i);
    assert.match(mail.subject, /code/i);
    assert.doesNotMatch(mail.html, /<a\s/i, 'no link in the mail');
    await page.fill('#code', codeIn(mail));
    await page.click('button:has-text("Valider")');
    await page.waitForURL(`${base}/account`);
  }

  test('activation, then login with the code from the mail, then logout', async () => {
    const p = person();
    await newAccount(t.deps.db, t.deps, { identity: p.identity, contact: p.contact, status: 'pending_activation' });
    const email = p.contact.email ?? '';
    const { context, page, problems } = await newPage();
    try {
      await page.goto(`${base}/login`);
      await page.click('a:has-text("Première connexion")');
      await page.waitForURL(`${base}/activate`);
      await check(page, 'activate');
      await page.fill('#nir', formatNir(p.identity.nir));
      await page.fill('#birthDate', p.identity.birthDate);
      await page.click('main button[type="submit"]');
      await page.waitForSelector('#code');
      await check(page, 'activate-code');
      await page.fill('#code', codeIn(await inbox.next(email, /code/i)));
      await page.click('button:has-text("Valider")');
      await page.waitForSelector('#confirm');
      await check(page, 'activate-password');
      const password = 'une phrase de passe assez longue';
      await page.fill('#password', password);
      await page.fill('#confirm', password);
      await page.click('main button[type="submit"]');
      await page.waitForURL(/\/login\?done=activated$/);
      await check(page, 'activate-done');

      await logInWithCode(page, formatNir(p.identity.nir), password, email, 'login');
      assert.match((await page.textContent('main')) ?? '', new RegExp(`${p.identity.givenNames} ${p.identity.familyName}`));
      await check(page, 'account');

      await page.click('button:has-text("Se déconnecter")');
      await page.waitForURL(/\/login\?done=logged-out$/);
      await page.goto(`${base}/account`);
      await page.waitForURL(`${base}/login`);
      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });

  test('recovery: code from the mail, new password, then login with it', async () => {
    const c = await citizenWithPassword(t);
    const { context, page, problems } = await newPage();
    try {
      await page.goto(`${base}/login`);
      await page.click('a:has-text("Mot de passe oublié")');
      await page.waitForURL(`${base}/recover`);
      await check(page, 'recover');
      await page.fill('#nir', c.nir);
      await page.click('main button[type="submit"]');
      await page.waitForSelector('#code');
      await check(page, 'recover-code');
      await page.fill('#code', codeIn(await inbox.next(c.email, /code/i)));
      await page.click('button:has-text("Valider")');
      await page.waitForSelector('#confirm');
      await check(page, 'recover-password');
      const password = 'un tout nouveau mot de passe solide';
      await page.fill('#password', password);
      await page.fill('#confirm', password);
      await page.click('main button[type="submit"]');
      await page.waitForURL(/\/login\?done=password-reset$/);
      await check(page, 'recover-done');
      const notice = await inbox.next(c.email, /mot de passe/i);
      assert.match(notice.text, /mot de passe/i);

      await logInWithCode(page, c.nir, password, c.email, '');
      assert.match((await page.textContent('main')) ?? '', new RegExp(`${c.givenNames} ${c.familyName}`));
      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });

  test('a wrong password shows the same message as an unknown NIR, in English too', async () => {
    const c = await citizenWithPassword(t);
    const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 375, height: 740 } });
    const page = await context.newPage();
    const problems = watch(page, (status, url) => status === 401 && url.endsWith('/login'));
    try {
      await page.goto(`${base}/login`);
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      await page.fill('#nir', c.nir);
      await page.fill('#password', 'definitely not the password');
      await page.click('main button[type="submit"]');
      await page.waitForSelector('.fr-alert--error');
      const wrong = await page.textContent('.fr-alert--error');
      assert.match(wrong ?? '', /Unable to sign in/);
      assert.equal(await page.inputValue('#password'), '', 'the password is not sent back');
      await check(page, 'login-error-en-mobile');
      await page.fill('#nir', '2 99 01 75 999 999 77');
      await page.fill('#password', 'definitely not the password');
      await page.click('main button[type="submit"]');
      await page.waitForSelector('.fr-alert--error');
      assert.equal(await page.textContent('.fr-alert--error'), wrong);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
