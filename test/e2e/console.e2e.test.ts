import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { KeyRing } from '../../src/crypto/keyring.ts';
import type { OpenDatabase } from '../../src/db/open.ts';
import { openIncident } from '../../src/incident/incidents.ts';
import { checkPage, launchChromium, openPage, SCREENSHOTS } from '../support/browser.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { sesame } from '../support/cli.ts';
import { cliWorkspace, type CliWorkspace } from '../support/cli-workspace.ts';
import { requirement } from '../support/requirements.ts';
import { freePort } from '../support/free-port.ts';

/**
 * The operator console in Chromium with the DevTools virtual authenticator: `sesame staff
 * create` prints a code, the operator enrols a passkey with it, logs out and in again, sees an
 * incident opened meanwhile, closes citizen access (the passkey asked again: 5 minutes passed),
 * the citizen site shows the maintenance page, and access is reopened. axe on every console
 * page. The CLI and the server share a PGlite directory and a key file, as in production.
 * http://localhost:<port>: WebAuthn wants a secure context and a domain as RP ID.
 */
describe('operator console in Chromium', requirement('chromium'), () => {
  let ws: CliWorkspace;
  let base: string;
  let code: string;
  let db: OpenDatabase;
  let t: TestApp;
  let browser: Browser;
  const ring = KeyRing.generate('kek-test');

  before(async () => {
    const port = await freePort();
    base = `http://localhost:${port}`;
    ws = await cliWorkspace({ name: 'pglite' }, { prefix: 'sesame-console-e2e-', user: 'oncall.martin', ring, env: { SESAME_PUBLIC_URL: base, PORT: String(port) } });
    const created = await sesame(['staff', 'create', '--role', 'operator', '--login', 'claire.ops', '--name', 'Claire Dupont', '--json'], ws.env);
    assert.equal(created.code, 0, created.stderr);
    code = (JSON.parse(created.stdout) as { enrolmentCode: string }).enrolmentCode;
    db = await ws.open();
    t = await testApp({ db, ring, env: { SESAME_PUBLIC_URL: base, PORT: String(port) } });
    t.clock.set(new Date());
    await t.app.listen({ port, host: 'localhost' });
    browser = await launchChromium();
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    await db?.close();
    await ws?.close();
  });

  test('create → enrol → log in → see the incident → close citizen access with a step-up → maintenance page → reopen', async () => {
    const { context, page, problems } = await openPage(browser, { locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
    try {
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });

      await page.goto(`${base}/console/enrol`);
      await checkPage(page, 'console-enrol-code');
      await page.fill('#code', code);
      await page.click('button:has-text("Continuer")');
      await page.waitForSelector('button[data-passkey-start]', { state: 'visible' });
      await checkPage(page, 'console-enrol-passkey');
      await page.click('button[data-passkey-start]');
      await page.waitForURL(`${base}/console`);
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.match((await page.textContent('#console-who')) ?? '', /Claire Dupont \(claire\.ops\)/);
      await checkPage(page, 'console-home-empty');

      await page.click('button:has-text("Se déconnecter")');
      await page.waitForURL(`${base}/console/login?done=logged-out`);
      await page.waitForSelector('button[data-passkey-start]', { state: 'visible' });
      await checkPage(page, 'console-login');
      await page.click('button[data-passkey-start]');
      await page.waitForURL(`${base}/console`);

      const incident = await openIncident(t.deps.db, t.deps.clock, {
        title: 'Dossiers affichés à d’autres allocataires',
        detectedAt: new Date(t.clock.now().getTime() - 3600_000),
        by: { kind: 'operator', name: 'oncall.martin' },
      });
      await page.reload();
      await page.click(`a:has-text("${incident.reference}")`);
      await page.waitForURL(`${base}/console/incidents/${incident.reference}`);
      assert.match((await page.textContent('#timeline')) ?? '', /operator:oncall\.martin/);
      await checkPage(page, 'console-incident');
      await page.goto(`${base}/console`);
      await checkPage(page, 'console-home');

      // Six minutes after the login: the close asks for the passkey again, then goes through.
      t.clock.advance(6 * 60_000);
      await page.fill('#reason-citizens', `${incident.reference} fuite entre dossiers`);
      await page.fill('#message_fr-citizens', 'Le service est fermé pour une vérification de sécurité.');
      await page.fill('#message_en-citizens', 'The service is closed for a security check.');
      await page.click('button:has-text("Fermer l’accès des usagers")');
      await page.waitForURL(/\/console\/step-up\/[0-9a-f-]{36}$/);
      await page.waitForSelector('button[data-passkey-start]', { state: 'visible' });
      await checkPage(page, 'console-step-up');
      await page.click('button[data-passkey-start]');
      await page.waitForURL(`${base}/console?done=closed`);
      assert.match((await page.textContent('#access-citizens-state')) ?? '', /Fermé/);

      const citizen = await openPage(browser, { locale: 'fr-FR', viewport: { width: 1280, height: 900 }, allowStatus: (status) => status === 503 });
      try {
        const res = await citizen.page.goto(`${base}/`);
        assert.equal(res?.status(), 503);
        assert.match((await citizen.page.textContent('main')) ?? '', /fermé pour une vérification de sécurité/);
        assert.deepEqual(citizen.problems, []);
      } finally {
        await citizen.context.close();
      }

      await page.click('button:has-text("Rouvrir l’accès des usagers")');
      await page.waitForURL(`${base}/console?done=opened`);
      const reopened = await browser.newPage();
      try {
        assert.equal((await reopened.goto(`${base}/`))?.status(), 200);
      } finally {
        await reopened.close();
      }
      await page.goto(`${base}/console/incidents/${incident.reference}`);
      const timeline = (await page.textContent('#timeline')) ?? '';
      assert.equal(timeline.match(/staff:claire\.ops/g)?.length, 2, 'the close and the reopening are on the timeline');
      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });
});
