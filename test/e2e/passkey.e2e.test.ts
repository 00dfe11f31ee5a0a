import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { createMailWorker } from '../../src/mail/worker.ts';
import { siteFromConfig } from '../../src/mail/site.ts';
import { smtpTransport, type MailTransport } from '../../src/mail/transport.ts';
import { createLogger } from '../../src/logger.ts';
import { launchChromium, SCREENSHOTS, seriousAxeViolations, watch } from '../support/browser.ts';
import { requirement } from '../support/requirements.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { citizenWithPassword } from '../support/login.ts';
import { codeIn, smtpInbox } from '../support/smtp-inbox.ts';

/** A port nobody uses now, so that the app's public URL (and so its WebAuthn origin) is known before it starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Passkeys in Chromium with the DevTools virtual authenticator (CTAP2, built in, resident
 * keys, user verification): password + emailed code, add a passkey, log out, log in with the
 * passkey alone. WebAuthn wants a secure context and a domain as RP ID (never an IP
 * address): the app is reached as http://localhost:<port>, which is both.
 */
describe('passkeys in Chromium', requirement('chromium'), () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let inbox: Awaited<ReturnType<typeof smtpInbox>>;
  let transport: MailTransport;
  let stopWorker: () => Promise<void>;

  before(async () => {
    inbox = await smtpInbox();
    const port = await freePort();
    base = `http://localhost:${port}`;
    t = await testApp({ env: { SMTP_URL: inbox.url, SESAME_PUBLIC_URL: base, PORT: String(port) } });
    assert.equal(t.deps.config.webauthn.rpId, 'localhost');
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
    await t.app.listen({ port, host: 'localhost' });
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

  test('add a passkey after a login by code, then log in with the passkey alone', async () => {
    const c = await citizenWithPassword(t);
    const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // The one refusal the test provokes: the enrolment without a name.
    const problems = watch(page, (status, url) => status === 400 && url.endsWith('/account/security/passkeys/options'));
    try {
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });

      await page.goto(`${base}/login`);
      await page.waitForSelector('button[data-passkey-start]', { state: 'visible' });
      await check(page, 'passkey-login-page');
      await page.fill('#nir', c.nir);
      await page.fill('#password', c.password);
      await page.click('main form button[type="submit"]');
      await page.waitForSelector('button:has-text("Envoyer le code")');
      await page.click('button:has-text("Envoyer le code")');
      await page.waitForSelector('#code');
      await page.fill('#code', codeIn(await inbox.next(c.email, /code/i)));
      await page.click('button:has-text("Valider")');
      await page.waitForURL(`${base}/account`);

      await page.goto(`${base}/account/security/passkeys/new`);
      await page.waitForSelector('#name', { state: 'visible' });
      await check(page, 'passkey-new');
      await page.click('button[data-passkey-start]');
      await page.waitForSelector('.fr-message--error');
      assert.match((await page.textContent('#name-messages')) ?? '', /nom/, 'a missing name is said next to the field');
      await page.fill('#name', 'Ordinateur portable');
      await page.click('button[data-passkey-start]');
      await page.waitForURL(`${base}/account/security`);
      const { credentials } = (await cdp.send('WebAuthn.getCredentials', { authenticatorId }));
      assert.equal(credentials.length, 1);
      assert.ok(credentials[0]?.isResidentCredential, 'a discoverable credential');

      await page.goto(`${base}/account`);
      await page.click('button:has-text("Se déconnecter")');
      await page.waitForURL(/\/login\?done=logged-out$/);

      await page.waitForSelector('button[data-passkey-start]', { state: 'visible' });
      await page.click('button[data-passkey-start]');
      await page.waitForURL(`${base}/account`);
      assert.match((await page.textContent('main')) ?? '', new RegExp(`${c.givenNames} ${c.familyName}`));
      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });
});

