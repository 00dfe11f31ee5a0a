import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import axe from 'axe-core';
import type { AxeResults, Result } from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, requirement } from '../support/requirements.ts';
import { testApp, type TestApp } from '../support/app.ts';

const SCREENSHOTS = new URL('../../test-results/', import.meta.url);

/** What went wrong in the page: CSP refusals, script errors, failed or refused loads. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || /Content Security Policy/i.test(msg.text())) problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  return problems;
}

async function seriousAxeViolations(page: Page): Promise<Result[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not apply to.
  await page.evaluate(axe.source);
  const results = await page.evaluate(() => (window as unknown as { axe: { run(): Promise<AxeResults> } }).axe.run());
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of serious) {
    console.error(`axe ${v.impact}: ${v.id} - ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`);
  }
  return serious;
}

describe('home page in Chromium', requirement('chromium'), () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;

  before(async () => {
    t = await testApp();
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = address;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await t?.close();
  });

  test('renders in French by default, styled by the DSFR, then in English through the switch', async () => {
    // A browser that asks for neither French nor English gets the French page.
    const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watch(page);
    try {
      await page.goto(`${base}/`, { waitUntil: 'networkidle' });
      assert.equal(await page.getAttribute('html', 'lang'), 'fr');
      assert.equal(await page.textContent('h1'), 'Votre compte pour les services publics');

      const styles = await page.evaluate(async () => {
        await document.fonts.ready;
        return {
          font: getComputedStyle(document.body).fontFamily,
          marianne: document.fonts.check('1rem Marianne'),
          containerWidth: getComputedStyle(document.querySelector('.fr-container') as Element).maxWidth,
          dsfrScript: document.documentElement.getAttribute('data-fr-js'),
        };
      });
      assert.match(styles.font, /Marianne/, 'the DSFR stylesheet applies');
      assert.ok(styles.marianne, 'the Marianne font is loaded from our origin');
      assert.equal(styles.containerWidth, '1248px', 'the DSFR grid applies (78rem containers)');
      assert.equal(styles.dsfrScript, 'true', 'the DSFR module script ran under the CSP');

      assert.deepEqual(await seriousAxeViolations(page), [], 'no serious or critical axe violation (French)');
      await page.screenshot({ path: new URL('home-fr.png', SCREENSHOTS).pathname, fullPage: true });

      await page.click('header a[hreflang="en"]');
      await page.waitForLoadState('networkidle');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.equal(await page.textContent('h1'), 'Your account for public services');
      assert.deepEqual(await seriousAxeViolations(page), [], 'no serious or critical axe violation (English)');
      await page.screenshot({ path: new URL('home-en.png', SCREENSHOTS).pathname, fullPage: true });

      // The choice is remembered by the language cookie.
      await page.goto(`${base}/`, { waitUntil: 'networkidle' });
      assert.equal(await page.getAttribute('html', 'lang'), 'en');

      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });

  test('works on a small screen: the switch is reachable and axe finds nothing serious', async () => {
    const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 375, height: 740 } });
    const page = await context.newPage();
    const problems = watch(page);
    try {
      await page.goto(`${base}/`, { waitUntil: 'networkidle' });
      assert.equal(await page.getAttribute('html', 'lang'), 'fr');
      assert.ok(await page.isVisible('footer a[hreflang="en"]'), 'the footer switch is visible without the menu');
      assert.deepEqual(await seriousAxeViolations(page), []);
      await page.screenshot({ path: new URL('home-fr-mobile.png', SCREENSHOTS).pathname, fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
