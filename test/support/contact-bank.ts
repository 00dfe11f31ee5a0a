import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { system } from '../../src/db/contexts.ts';
import { appendEvent, readEvents, type FileEvent } from '../../src/file/events.ts';
import { createLogger } from '../../src/logger.ts';
import { siteFromConfig } from '../../src/mail/site.ts';
import { smtpTransport } from '../../src/mail/transport.ts';
import { createMailWorker } from '../../src/mail/worker.ts';
import type { TestApp } from './app.ts';
import type { Browser, Citizen } from './login.ts';
import { smtpInbox, type ReceivedMail } from './smtp-inbox.ts';
import { appCode } from './totp.ts';

/**
 * Helpers of the contact and bank-details tests (src/account-area/contact, bank-details):
 * the step-up with the authenticator app, the kept form sent again, the file's events, and
 * mail delivered over real SMTP to an inbox in the test.
 */

/** Completes the step-up at `stepUp` (password, then the app's code): the kept form's page. */
export async function stepUpWithApp(b: Browser, c: Citizen, secret: string, stepUp: string): Promise<LightMyRequestResponse> {
  assert.match(stepUp, /^\/step-up\/[0-9a-f-]{36}$/, 'a step-up was asked');
  await b.get(stepUp);
  assert.equal((await b.post(stepUp, { method: 'password', password: c.password })).headers.location, stepUp);
  await b.get(`${stepUp}/totp`);
  b.t.clock.advance(1000);
  const done = await b.post(`${stepUp}/totp`, { method: 'totp', code: appCode(secret, b.t.clock) });
  assert.equal(done.statusCode, 200, 'step-up completed');
  return done;
}

/** What the browser sends when the kept form goes (by its script, or its one button). */
export async function sendKeptForm(b: Browser, page: LightMyRequestResponse): Promise<LightMyRequestResponse> {
  const action = /<form method="post" action="([^"]+)" id="kept-form"/.exec(page.body)?.[1];
  assert.ok(action, 'the kept form is on the page');
  const form = /<form method="post" action="[^"]+" id="kept-form"[\s\S]*?<\/form>/.exec(page.body)?.[0] ?? '';
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    if (m[1] !== '_csrf') fields[m[1] ?? ''] = decodeEntities(m[2] ?? '');
  }
  return b.post(action, fields, page.body);
}

const decodeEntities = (s: string): string =>
  s.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x27;/g, "'").replace(/&amp;/g, '&');

/** The `shown` mark of the form posted to `action` in the page. */
export function shownIn(body: string, action: string): string {
  const form = new RegExp(`<form method="post" action="${action}"[\\s\\S]*?</form>`).exec(body)?.[0] ?? '';
  const shown = /name="shown" value="([^"]+)"/.exec(form)?.[1];
  assert.ok(shown, `no shown mark in the form to ${action}`);
  return shown;
}

export const fileEvents = (t: TestApp, accountId: string): Promise<FileEvent[]> => system(t.deps.db, 'test', (tx) => readEvents(tx, t.deps.ring, accountId));

export async function auditTypes(t: TestApp, accountId: string, like: string): Promise<{ type: string; payload: Record<string, unknown> }[]> {
  return system(t.deps.db, 'test', async (tx) => {
    const { rows } = await tx.query<{ type: string; payload: Record<string, unknown> }>(`SELECT type, payload FROM audit_log WHERE account_id = $1 AND type LIKE $2 ORDER BY seq`, [accountId, like]);
    return rows;
  });
}

/** The account's sessions still open. */
export async function liveSessions(t: TestApp, accountId: string): Promise<number> {
  return system(t.deps.db, 'test', async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM sessions WHERE account_id = $1 AND ended_at IS NULL`, [accountId])).rows[0]?.n ?? 0);
}

/** A real SMTP server and a mail worker for the app: `deliver()` sends what the outbox holds. */
export async function mailDelivery(t: TestApp): Promise<{ deliver(): Promise<void>; next(to: string, subject?: RegExp): Promise<ReceivedMail>; mails: ReceivedMail[]; close(): Promise<void> }> {
  const inbox = await smtpInbox();
  const transport = smtpTransport(inbox.url);
  const worker = createMailWorker({ db: t.deps.db, ring: t.deps.ring, clock: t.deps.clock, transport, from: t.deps.config.mailFrom, site: siteFromConfig(t.deps.config), logger: createLogger('silent') });
  return {
    mails: inbox.mails,
    async deliver() {
      for (;;) {
        const r = await worker.runOnce();
        assert.equal(r.failed, 0, 'no mail failed');
        if (r.sent === 0 && r.retried === 0) return;
      }
    },
    next: (to, subject) => inbox.next(to, subject, 5000),
    async close() {
      await worker.stop();
      await transport.close?.();
      await inbox.close();
    },
  };
}

/** Bank details on file from the agency (in force at once), as an import would record them. */
export async function agencyBankDetails(t: TestApp, accountId: string, iban: string, holder = 'Camille Martin'): Promise<void> {
  await system(t.deps.db, 'test', (tx) => appendEvent(tx, t.deps, { type: 'bank-details.changed', accountId, actor: { kind: 'agency', id: 'import' }, sessionId: null, level: null, after: { iban, holder } }));
}

/**
 * A change of bank details from a browser whose session may not be eidas2 yet: the form, the
 * step-up with the app when asked, the kept form sent again. The last answer (303 when done).
 */
export async function changeBankDetails(b: Browser, c: Citizen, secret: string, details: { iban: string; holder: string }): Promise<LightMyRequestResponse> {
  const page = await b.get('/account/bank-details');
  const res = await b.post('/account/bank-details', { ...details, shown: shownIn(page.body, '/account/bank-details') });
  if (!String(res.headers.location ?? '').startsWith('/step-up/')) return res;
  return sendKeptForm(b, await stepUpWithApp(b, c, secret, String(res.headers.location)));
}

/** The cancellation code in a bank-details-changed mail's text. */
export function cancelCodeIn(text: string): string {
  const code = /\b([A-Z2-7]{5}-[A-Z2-7]{5})\b/.exec(text)?.[1];
  assert.ok(code, 'no cancellation code in the mail');
  return code;
}
