import assert from 'node:assert/strict';
import axe from 'axe-core';
import type { AxeResults, Result } from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM } from './requirements.ts';

export const SCREENSHOTS = new URL('../../test-results/', import.meta.url);

/** Chromium with the flags the project runs it with. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** What went wrong in the page: CSP refusals, script errors, failed or refused loads. */
export function watch(page: Page, allowStatus: (status: number, url: string) => boolean = () => false): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    // Chromium logs every 4xx/5xx as a console error too: those are judged by the response check.
    if (/^Failed to load resource: the server responded with a status of \d+/.test(msg.text())) return;
    if (msg.type() === 'error' || /Content Security Policy/i.test(msg.text())) problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
  page.on('response', (res) => {
    if (res.status() >= 400 && !allowStatus(res.status(), res.url())) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  return problems;
}

export async function seriousAxeViolations(page: Page): Promise<Result[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not apply to.
  await page.evaluate(axe.source);
  const results = await page.evaluate(() => (window as unknown as { axe: { run(): Promise<AxeResults> } }).axe.run());
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of serious) {
    console.error(`axe ${v.impact}: ${v.id} - ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`);
  }
  return serious;
}

/** A new browser context and its page, watched for problems (see watch()). */
export async function openPage(
  browser: Browser,
  o: { locale: string; viewport: { width: number; height: number }; allowStatus?: (status: number, url: string) => boolean },
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ locale: o.locale, viewport: o.viewport });
  const page = await context.newPage();
  return { context, page, problems: watch(page, o.allowStatus) };
}

/** Checks the page with axe (nothing serious or critical) and keeps a screenshot named `name`. */
export async function checkPage(page: Page, name: string): Promise<void> {
  assert.deepEqual(await seriousAxeViolations(page), [], `no serious or critical axe violation on ${name}`);
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
}
