import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { base32Decode, hotp, totpStep } from '../../src/auth/methods/totp.ts';
import { system } from '../../src/db/contexts.ts';
import type { Clock } from '../../src/clock.ts';
import type { Database } from '../../src/db/database.ts';
import type { TestApp } from './app.ts';
import { Browser, citizenWithPassword, logIn, submitPassword, type Citizen } from './login.ts';

/** What an authenticator app would show now (or `steps` steps from now) for this secret. */
export function appCode(secret: string, clock: Clock, steps = 0): string {
  const key = base32Decode(secret);
  assert.ok(key, 'not a base32 secret');
  return hotp(key, totpStep(clock.now()) + steps);
}

/** A 6-digit code that none of the accepted steps' codes is. */
export function wrongAppCode(secret: string, clock: Clock, seed = 0): string {
  const valid = new Set([-1, 0, 1].map((d) => appCode(secret, clock, d)));
  for (let n = seed; ; n++) {
    const code = String((123456 + n * 7919) % 1_000_000).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}

/** The key shown for manual entry on the enrolment page. */
export function secretIn(page: string): string {
  const m = /id="totp-secret">([A-Z2-7 ]+)</.exec(page);
  assert.ok(m?.[1], 'no secret on the enrolment page');
  return m[1].replace(/ /g, '');
}

/** The recovery codes listed on a codes page. */
export function codesIn(page: string): string[] {
  return [...page.matchAll(/<code class="sesame-reference">([A-Z2-7]{5}-[A-Z2-7]{5})<\/code>/g)].map((m) => m[1] as string);
}

/**
 * The app enrolment page, for a browser whose session may enrol now: the page, the key it
 * shows and its sealed pending secret.
 */
export async function enrolmentPage(b: Browser): Promise<{ page: LightMyRequestResponse; secret: string; pending: string }> {
  const page = await b.get('/account/security/totp/new');
  assert.equal(page.statusCode, 200, `enrolment page: ${page.statusCode} ${String(page.headers.location ?? '')}`);
  const secret = secretIn(page.body);
  const pending = /name="pending" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(pending);
  return { page, secret, pending };
}

/** A new citizen, logged in by password + email code in a new browser, at the app enrolment page. */
export async function citizenAtEnrolment(t: TestApp): Promise<{ c: Citizen; b: Browser; page: LightMyRequestResponse; secret: string; pending: string }> {
  const c = await citizenWithPassword(t);
  const b = new Browser(t);
  await logIn(b, c);
  return { c, b, ...(await enrolmentPage(b)) };
}

/**
 * Adds an app from a browser whose session may enrol now (a fresh email code or a step-up):
 * the enrolment page, then its form with the app's current code. The clock then moves one
 * step, so that the next code the app shows is not the one that confirmed it.
 */
export async function enrolApp(b: Browser, name = 'Téléphone de Camille'): Promise<{ secret: string; codes: string[]; res: LightMyRequestResponse }> {
  const { secret, pending } = await enrolmentPage(b);
  const res = await b.post('/account/security/totp/new', { method: 'totp', pending, name, code: appCode(secret, b.t.clock) });
  assert.equal(res.statusCode, 200, `enrolment refused: ${res.statusCode}`);
  const codes = codesIn(res.body);
  assert.equal(codes.length, 10);
  b.t.clock.advance(30_000);
  return { secret, codes, res };
}

/** NIR + password, then the app's page of the login flow: the flow's URL. */
export async function atTotpStep(b: Browser, c: Pick<Citizen, 'nir' | 'password'>, method: 'totp' | 'recovery-code' = 'totp'): Promise<string> {
  const flow = await submitPassword(b, c);
  const page = await b.get(`${flow}/${method}`);
  assert.equal(page.statusCode, 200, `${method} page: ${page.statusCode}`);
  return flow;
}

/** The account's TOTP rows, as the system sees them. */
export async function totpRows(db: Database, accountId: string): Promise<{ authenticator_id: string; last_step: string; secret: Uint8Array }[]> {
  return system(db, 'test', async (tx) => {
    const { rows } = await tx.query<{ authenticator_id: string; last_step: string; secret: Uint8Array }>(
      `SELECT authenticator_id, last_step::text AS last_step, secret FROM totp_secrets WHERE account_id = $1`,
      [accountId],
    );
    return rows;
  });
}

/** The account's recovery codes rows (MACs only), oldest first. */
export async function recoveryRows(t: TestApp, accountId: string): Promise<{ id: string; code_mac: Uint8Array; used_at: Date | null }[]> {
  return system(t.deps.db, 'test', async (tx) => {
    const { rows } = await tx.query<{ id: string; code_mac: Uint8Array; used_at: Date | null }>(
      `SELECT id, code_mac, used_at FROM recovery_codes WHERE account_id = $1 ORDER BY created_at, id`,
      [accountId],
    );
    return rows;
  });
}

/** A citizen with an app added from a password + email code session, its cooling-off over. */
export async function citizenWithApp(t: TestApp): Promise<{ c: Citizen; secret: string; codes: string[] }> {
  const c = await citizenWithPassword(t);
  const b = new Browser(t);
  await logIn(b, c);
  const { secret, codes } = await enrolApp(b);
  t.clock.advance(24 * 3600 * 1000 + 60_000);
  return { c, secret, codes };
}
