import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, SCREENSHOTS, seriousAxeViolations } from '../support/browser.ts';
import { chromiumApp } from '../support/e2e.ts';
import { requirement } from '../support/requirements.ts';

describe('home page in Chromium', requirement('chromium'), () => {
  const app = chromiumApp();

  test('renders in French by default, styled by the DSFR, then in English through the switch', async () => {
    // A browser that asks for neither French nor English gets the French page.
    const { context, page, problems } = await openPage(app.browser, { locale: 'de-DE', viewport: { width: 1280, height: 900 } });
    try {
      await page.goto(`${app.base}/`, { waitUntil: 'networkidle' });
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
      await page.goto(`${app.base}/`, { waitUntil: 'networkidle' });
      assert.equal(await page.getAttribute('html', 'lang'), 'en');

      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });

  test('works on a small screen: the switch is reachable and axe finds nothing serious', async () => {
    const { context, page, problems } = await openPage(app.browser, { locale: 'fr-FR', viewport: { width: 375, height: 740 } });
    try {
      await page.goto(`${app.base}/`, { waitUntil: 'networkidle' });
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
