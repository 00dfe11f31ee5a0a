import assert from 'node:assert/strict';
import { newId } from '../../src/crypto/random.ts';
import { system } from '../../src/db/contexts.ts';
import type { PaymentValue } from '../../src/file/catalogue.ts';
import { appendEvent } from '../../src/file/events.ts';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './app.ts';
import type { Browser, Citizen } from './login.ts';
import { appCode } from './totp.ts';

/**
 * The agency's side of a beneficiary's file, for the tests of the pages that show it:
 * payments and bank details recorded as the import would (system context, actor agency), and
 * procedures filed through their forms as the citizen would.
 */

export const AGENCY = { kind: 'agency', id: 'caf-75' } as const;

/** Records a payment (`payment.recorded`, a new key each time); returns its id. */
export async function recordPayment(t: TestApp, accountId: string, p: Partial<PaymentValue> & Pick<PaymentValue, 'date' | 'amountCents'>): Promise<string> {
  const id = newId();
  const after: PaymentValue = { reference: `PAY-${id.slice(0, 8)}`, benefit: 'RSA', status: 'paid', iban: null, ...p };
  await system(t.deps.db, 'test', (tx) => appendEvent(tx, t.deps, { type: 'payment.recorded', accountId, key: id, after, actor: AGENCY, sessionId: null, level: null }));
  return id;
}

/** Bank details set by the agency (at once), or a change held until `effectiveAt`. */
export async function setBankDetails(t: TestApp, accountId: string, iban: string, holder: string, effectiveAt?: Date): Promise<void> {
  await system(t.deps.db, 'test', (tx) =>
    appendEvent(tx, t.deps, { type: 'bank-details.changed', accountId, after: { iban, holder }, effectiveAt: effectiveAt ?? null, actor: AGENCY, sessionId: null, level: null }),
  );
}

/** Files a procedure through its form; returns its id (from the redirect) and its reference (from the detail page). */
export async function fileProcedure(b: Browser, kind: string, fields: Record<string, string>): Promise<{ id: string; reference: string }> {
  await b.get(`/account/procedures/new/${kind}`);
  const res = await b.post(`/account/procedures/new/${kind}`, fields);
  assert.equal(res.statusCode, 303, `${kind} not filed: ${res.statusCode}`);
  const m = /^\/account\/procedures\/([0-9a-f-]{36})\?done=submitted$/.exec(String(res.headers.location));
  assert.ok(m?.[1], 'redirected to the detail page');
  const page = await b.get(`/account/procedures/${m[1]}`);
  assert.equal(page.statusCode, 200);
  const reference = /id="procedure-reference">(D-\d{4}-[2-9A-HJ-NP-Z]{8})</.exec(page.body)?.[1];
  assert.ok(reference, 'the detail page shows the reference');
  return { id: m[1], reference };
}

/** The visible text of an HTML fragment: tags dropped, entities and spaces (including narrow no-break ones) normalised. */
export function textOf(body: string): string {
  return body
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[\s\u00a0\u202f]+/g, ' ')
    .trim();
}

/** The inner HTML of the element with this id (first match; good enough for our own markup). */
export function sectionById(body: string, id: string, tag = '[a-z0-9]+'): string {
  const m = new RegExp(`<(${tag})[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(body);
  assert.ok(m?.[2] !== undefined, `no element #${id} on the page`);
  return m[2];
}

/** POST /account/export from an eidas1 session, the step-up by password + app, then the kept form posted again: the download. */
export async function exportWithStepUp(t: TestApp, b: Browser, c: Citizen, secret: string): Promise<LightMyRequestResponse> {
  await b.get('/account/export');
  const asked = await b.post('/account/export', {});
  assert.equal(asked.statusCode, 303);
  const stepUp = String(asked.headers.location);
  assert.match(stepUp, /^\/step-up\/[0-9a-f-]{36}$/);
  await b.get(stepUp);
  assert.equal((await b.post(stepUp, { method: 'password', password: c.password })).headers.location, stepUp);
  await b.get(`${stepUp}/totp`);
  t.clock.advance(1000);
  const kept = await b.post(`${stepUp}/totp`, { method: 'totp', code: appCode(secret, t.clock) });
  assert.equal(kept.statusCode, 200);
  assert.match(kept.body, /<form method="post" action="\/account\/export" id="kept-form" data-autosubmit>/);
  return b.post('/account/export', {}, kept.body);
}
