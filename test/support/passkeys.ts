import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { system } from '../../src/db/contexts.ts';
import type { TestApp } from './app.ts';
import type { Browser } from './login.ts';
import { SoftAuthenticator, type CreationOptions, type RequestOptions } from './webauthn.ts';

/** Passkey ceremonies through the app's JSON endpoints, as passkey.js sends them. */

/** The CSRF token of a page: the passkey block's data-csrf, else the form field. */
export function pageToken(body: string): string {
  const match = /data-csrf="([^"]+)"/.exec(body) ?? /name="_csrf" value="([^"]+)"/.exec(body);
  if (!match?.[1]) throw new Error('no CSRF token in the page');
  return match[1];
}

export async function postJson(b: Browser, url: string, body: unknown, token = pageToken(b.lastPage)): Promise<LightMyRequestResponse> {
  const res = await b.t.app.inject({
    method: 'POST',
    url,
    cookies: b.jar.cookies(),
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': token, 'user-agent': b.userAgent, ...b.headers },
    payload: JSON.stringify(body),
    remoteAddress: b.ip,
  });
  b.jar.store(res);
  return res;
}

export const authenticatorFor = (t: TestApp): SoftAuthenticator => new SoftAuthenticator(t.deps.config.webauthn.origins[0] ?? '');

/** Options from the enrolment endpoint, for a browser whose session may enrol (page already fetched). */
export async function enrolmentOptions(b: Browser, name: string): Promise<{ res: LightMyRequestResponse; flow: string; options: CreationOptions }> {
  const res = await postJson(b, '/account/security/passkeys/options', { method: 'passkey', name });
  const data = res.json<{ flow: string; options: CreationOptions }>();
  return { res, flow: data.flow, options: data.options };
}

/** The whole enrolment from a session allowed to enrol: page, options, create, verify. */
export async function enrolPasskey(b: Browser, authenticator: SoftAuthenticator, name = 'Téléphone personnel'): Promise<void> {
  const page = await b.get('/account/security/passkeys/new');
  assert.equal(page.statusCode, 200, `enrolment page: ${page.statusCode} ${String(page.headers.location)}`);
  const { res, flow, options } = await enrolmentOptions(b, name);
  assert.equal(res.statusCode, 200, res.body);
  const credential = authenticator.create(options);
  const done = await postJson(b, '/account/security/passkeys', { method: 'passkey', flow, name, credential });
  assert.equal(done.statusCode, 200, done.body);
  assert.deepEqual(done.json(), { redirect: '/account/security' });
}

/** /login options: the flow and what the browser gets. */
export async function loginOptions(b: Browser): Promise<{ flow: string; options: RequestOptions }> {
  await b.get('/login');
  const res = await postJson(b, '/login/passkey/options', { method: 'passkey' });
  assert.equal(res.statusCode, 200, res.body);
  return res.json<{ flow: string; options: RequestOptions }>();
}

/** A login with the passkey alone. */
export async function passkeyLogin(b: Browser, authenticator: SoftAuthenticator): Promise<LightMyRequestResponse> {
  const { flow, options } = await loginOptions(b);
  return postJson(b, `/login/passkey/${flow}`, { method: 'passkey', credential: authenticator.get(options) });
}

/** The account's audit events of one type (payloads), oldest first. */
export async function auditPayloads(t: TestApp, type: string, accountId?: string | null): Promise<Record<string, unknown>[]> {
  return system(t.deps.db, 'test', async (tx) => {
    const { rows } = await tx.query<{ payload: Record<string, unknown>; account_id: string | null }>(`SELECT payload, account_id FROM audit_log WHERE type = $1 ORDER BY seq`, [type]);
    return rows.filter((r) => accountId === undefined || r.account_id === accountId).map((r) => r.payload);
  });
}
