import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { formatNir } from '../../src/accounts/nir.ts';
import { checkPage as check, openPage } from '../support/browser.ts';
import { chromiumAppWithMail, logInWithMailedCode } from '../support/e2e.ts';
import { requirement } from '../support/requirements.ts';
import { citizenWithPassword } from '../support/login.ts';
import { newAccount, person } from '../support/fixtures.ts';
import { codeIn } from '../support/smtp-inbox.ts';

/**
 * A citizen in Chromium, mail through a real SMTP server: activation, login with the code
 * read from the delivered mail, logout, recovery. Every page is checked with axe-core.
 */
describe('citizen login in Chromium', requirement('chromium'), () => {
  const app = chromiumAppWithMail();

  function newPage(): ReturnType<typeof openPage> {
    return openPage(app.browser, { locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
  }

  async function logInWithCode(page: Page, nir: string, password: string, email: string, shots: string): Promise<void> {
    const mail = await logInWithMailedCode(page, app, { nir, password, email }, async (step) => {
      if (step === 'send-code') assert.match((await page.textContent('main')) ?? '', /\*\*\*@/, 'the masked address is shown');
      if (step === 'enter-code') assert.ok(await page.isDisabled('button:has-text("Renvoyer le code")'), 'resend is disabled during the cooldown');
      if (shots) await check(page, `${shots}-${step}`);
    });
    assert.match(mail.subject, /code/i);
    assert.doesNotMatch(mail.html, /<a\s/i, 'no link in the mail');
  }

  test('activation, then login with the code from the mail, then logout', async () => {
    const p = person();
    await newAccount(app.t.deps.db, app.t.deps, { identity: p.identity, contact: p.contact, status: 'pending_activation' });
    const email = p.contact.email ?? '';
    const { context, page, problems } = await newPage();
    try {
      await page.goto(`${app.base}/login`);
      await page.click('a:has-text("Première connexion")');
      await page.waitForURL(`${app.base}/activate`);
      await check(page, 'activate');
      await page.fill('#nir', formatNir(p.identity.nir));
      await page.fill('#birthDate', p.identity.birthDate);
      await page.click('main button[type="submit"]');
      await page.waitForSelector('#code');
      await check(page, 'activate-code');
      await page.fill('#code', codeIn(await app.inbox.next(email, /code/i)));
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
      await page.goto(`${app.base}/account`);
      await page.waitForURL(`${app.base}/login`);
      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });

  test('recovery: code from the mail, new password, then login with it', async () => {
    const c = await citizenWithPassword(app.t);
    const { context, page, problems } = await newPage();
    try {
      await page.goto(`${app.base}/login`);
      await page.click('a:has-text("Mot de passe oublié")');
      await page.waitForURL(`${app.base}/recover`);
      await check(page, 'recover');
      await page.fill('#nir', c.nir);
      await page.click('main button[type="submit"]');
      await page.waitForSelector('#code');
      await check(page, 'recover-code');
      await page.fill('#code', codeIn(await app.inbox.next(c.email, /code/i)));
      await page.click('button:has-text("Valider")');
      await page.waitForSelector('#confirm');
      await check(page, 'recover-password');
      const password = 'un tout nouveau mot de passe solide';
      await page.fill('#password', password);
      await page.fill('#confirm', password);
      await page.click('main button[type="submit"]');
      await page.waitForURL(/\/login\?done=password-reset$/);
      await check(page, 'recover-done');
      const notice = await app.inbox.next(c.email, /mot de passe/i);
      assert.match(notice.text, /mot de passe/i);

      await logInWithCode(page, c.nir, password, c.email, '');
      assert.match((await page.textContent('main')) ?? '', new RegExp(`${c.givenNames} ${c.familyName}`));
      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });

  test('a wrong password shows the same message as an unknown NIR, in English too', async () => {
    const c = await citizenWithPassword(app.t);
    const { context, page, problems } = await openPage(app.browser, {
      locale: 'en-GB',
      viewport: { width: 375, height: 740 },
      allowStatus: (status, url) => status === 401 && url.endsWith('/login'),
    });
    try {
      await page.goto(`${app.base}/login`);
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
