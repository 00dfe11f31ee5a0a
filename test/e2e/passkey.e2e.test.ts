import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPage as check, openPage } from '../support/browser.ts';
import { chromiumAppWithMail, logInWithMailedCode } from '../support/e2e.ts';
import { requirement } from '../support/requirements.ts';
import { citizenWithPassword } from '../support/login.ts';

/**
 * Passkeys in Chromium with the DevTools virtual authenticator (CTAP2, built in, resident
 * keys, user verification): password + emailed code, add a passkey, log out, log in with the
 * passkey alone. WebAuthn wants a secure context and a domain as RP ID (never an IP
 * address): the app is reached as http://localhost:<port>, which is both.
 */
describe('passkeys in Chromium', requirement('chromium'), () => {
  const app = chromiumAppWithMail({ host: 'localhost' });

  before(() => {
    assert.match(app.base, /^http:\/\/localhost:\d+$/, 'WebAuthn refuses an IP address as RP ID');
    assert.equal(app.t.deps.config.webauthn.rpId, 'localhost');
  });

  test('add a passkey after a login by code, then log in with the passkey alone', async () => {
    const c = await citizenWithPassword(app.t);
    const { context, page, problems } = await openPage(app.browser, {
      locale: 'fr-FR',
      viewport: { width: 1280, height: 900 },
      // The one refusal the test provokes: the enrolment without a name.
      allowStatus: (status, url) => status === 400 && url.endsWith('/account/security/passkeys/options'),
    });
    try {
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });

      await logInWithMailedCode(page, app, c, async (step) => {
        if (step !== 'login') return;
        await page.waitForSelector('button[data-passkey-start]', { state: 'visible' });
        await check(page, 'passkey-login-page');
      });

      await page.goto(`${app.base}/account/security/passkeys/new`);
      await page.waitForSelector('#name', { state: 'visible' });
      await check(page, 'passkey-new');
      await page.click('button[data-passkey-start]');
      await page.waitForSelector('.fr-message--error');
      assert.match((await page.textContent('#name-messages')) ?? '', /nom/, 'a missing name is said next to the field');
      await page.fill('#name', 'Ordinateur portable');
      await page.click('button[data-passkey-start]');
      await page.waitForURL(`${app.base}/account/security`);
      const { credentials } = (await cdp.send('WebAuthn.getCredentials', { authenticatorId }));
      assert.equal(credentials.length, 1);
      assert.ok(credentials[0]?.isResidentCredential, 'a discoverable credential');

      await page.goto(`${app.base}/account`);
      await page.click('button:has-text("Se déconnecter")');
      await page.waitForURL(/\/login\?done=logged-out$/);

      await page.waitForSelector('button[data-passkey-start]', { state: 'visible' });
      await page.click('button[data-passkey-start]');
      await page.waitForURL(`${app.base}/account`);
      assert.match((await page.textContent('main')) ?? '', new RegExp(`${c.givenNames} ${c.familyName}`));
      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });
});

