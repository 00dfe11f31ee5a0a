import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './app.ts';
import type { TestDatabase } from './databases.ts';
import { pageText } from './flows.ts';
import { Browser, citizenWithPassword, logIn, type Citizen } from './login.ts';
import { appCode, atTotpStep, enrolApp } from './totp.ts';

/**
 * IDOR attacks (insecure direct object reference): a logged-in citizen puts another
 * citizen's id in a URL or a form. Both citizens hold an authenticator app and log in with it
 * (eidas2, just now), so that no step-up stands between the attacker and the route: what
 * refuses the id is the route itself. The victim's rows in every table are compared before
 * and after: nothing of theirs changes.
 */

export interface Party {
  c: Citizen;
  secret: string;
  b: Browser;
}

/** Password + the app's code: an eidas2 session whose authentication is fresh. */
export async function logInStrong(b: Browser, c: Citizen, secret: string): Promise<void> {
  b.t.clock.advance(1000);
  const flow = await atTotpStep(b, c);
  const res = await b.post(`${flow}/totp`, { method: 'totp', code: appCode(secret, b.t.clock) });
  assert.equal(res.statusCode, 303, 'app code refused');
  assert.equal(res.headers.location, '/account');
}

async function withApp(t: TestApp, identity: { givenNames: string; familyName: string }): Promise<{ c: Citizen; secret: string }> {
  const c = await citizenWithPassword(t, { identity });
  const b = new Browser(t);
  await logIn(b, c);
  const { secret } = await enrolApp(b, `Application de ${identity.givenNames}`);
  return { c, secret };
}

/** Two citizens with an app (past its cooling-off), each logged in with it in their own browser. */
export async function victimAndAttacker(t: TestApp): Promise<{ victim: Party; attacker: Party }> {
  // Both apps first: their cooling-off is waited out once, for both, before either logs in.
  const v = await withApp(t, { givenNames: 'Victoire', familyName: 'Lavictime' });
  const a = await withApp(t, { givenNames: 'Arsène', familyName: 'Lattaquant' });
  t.clock.advance(24 * 3600 * 1000 + 60_000);
  const victim = { c: v.c, secret: v.secret, b: new Browser(t) };
  const attacker = { c: a.c, secret: a.secret, b: new Browser(t) };
  await logInStrong(victim.b, victim.c, victim.secret);
  await logInStrong(attacker.b, attacker.c, attacker.secret);
  return { victim, attacker };
}

/**
 * Every row that belongs to the account, in every table with an `account_id` column (tables
 * added later are included without touching this), read as the database owner. Compare two
 * snapshots with deepEqual.
 */
export async function accountRows(tdb: TestDatabase, accountId: string): Promise<Record<string, string[]>> {
  const { rows: tables } = await tdb.superuser(
    `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'account_id' ORDER BY table_name`,
  );
  const out: Record<string, string[]> = {};
  for (const { table_name: table } of tables as { table_name: string }[]) {
    const { rows } = await tdb.superuser(`SELECT to_jsonb(t)::text AS row FROM "${table}" t WHERE account_id = $1`, [accountId]);
    out[table] = (rows as { row: string }[]).map((r) => r.row).sort();
  }
  return out;
}

/**
 * The attack's answer is a refusal that tells nothing: 404, or exactly what an id that
 * exists nowhere gets (same status, same page once ids and tokens are set aside).
 */
export function sameAsUnknown(attack: LightMyRequestResponse, unknown: LightMyRequestResponse, what: string): void {
  assert.equal(attack.statusCode, unknown.statusCode, `${what}: another citizen's id is answered as an unknown id (status)`);
  assert.ok(attack.statusCode >= 300, `${what}: refused (${attack.statusCode})`);
  if (attack.statusCode >= 300 && attack.statusCode < 400) {
    assert.equal(String(attack.headers.location).replace(/[0-9a-f-]{36}/g, '<id>'), String(unknown.headers.location).replace(/[0-9a-f-]{36}/g, '<id>'), `${what}: same redirect`);
  } else {
    assert.equal(pageText(attack.body), pageText(unknown.body), `${what}: same page as for an unknown id`);
  }
}

/** The victim's own data must not appear in the attacker's answer. */
export function carriesNothingOf(res: LightMyRequestResponse, victim: Citizen, extra: readonly string[] = []): void {
  for (const s of [victim.familyName, victim.email, ...extra]) {
    if (s) assert.ok(!res.body.includes(s), 'the answer carries none of the victim’s data');
  }
}

/** The value of a hidden field of the form posting to `action` in a page. */
export function formField(body: string, action: string, name: string): string {
  const form = new RegExp(`<form [^>]*action="${action.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*>([\\s\\S]*?)</form>`).exec(body)?.[1];
  assert.ok(form, `no form posting to ${action}`);
  const value = new RegExp(`name="${name}" value="([^"]*)"`).exec(form)?.[1];
  assert.ok(value !== undefined, `no ${name} field in the form posting to ${action}`);
  return value;
}
