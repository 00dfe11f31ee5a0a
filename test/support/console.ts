import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { system } from '../../src/db/contexts.ts';
import { createStaff } from '../../src/staff/accounts.ts';
import { issueEnrolmentCode } from '../../src/staff/enrolment-codes.ts';
import { STAFF_COOKIE } from '../../src/console/staff-session.ts';
import type { TestApp } from './app.ts';
import { Browser } from './login.ts';
import { authenticatorFor, postJson } from './passkeys.ts';
import type { CreationOptions, RequestOptions, SoftAuthenticator } from './webauthn.ts';

/** The operator console through its pages and JSON endpoints, as a browser with passkey.js drives it. */

let n = 0;

/** A staff account and its enrolment code, as `sesame staff create` makes them (with the test's clock). */
export async function newStaff(t: TestApp, login = `operator-${++n}`): Promise<{ login: string; staffId: string; code: string }> {
  return system(t.deps.db, 'cli:staff-create', async (tx) => {
    const staff = await createStaff(tx, t.deps.clock, { login, displayName: `Opératrice ${n}`, role: 'operator', createdBy: 'test' });
    const { code } = await issueEnrolmentCode(tx, t.deps.clock, t.deps.ring.macKey, staff.id, 'test');
    return { login, staffId: staff.id, code };
  });
}

/** Types the code at /console/enrol: the ceremony page's URL, or the refusal. */
export async function submitEnrolmentCode(b: Browser, code: string): Promise<LightMyRequestResponse> {
  await b.get('/console/enrol');
  return b.post('/console/enrol', { code });
}

/** Options then attestation for an enrolment ceremony page already fetched. */
export async function registerAt(b: Browser, ceremony: string, authenticator: SoftAuthenticator): Promise<LightMyRequestResponse> {
  const page = await b.get(ceremony);
  assert.equal(page.statusCode, 200);
  const started = await postJson(b, `${ceremony}/options`, { method: 'passkey', name: '' });
  assert.equal(started.statusCode, 200, started.body);
  const { flow, options } = started.json<{ flow: string; options: CreationOptions }>();
  return postJson(b, `${ceremony}/passkey`, { method: 'passkey', flow, name: '', credential: authenticator.create(options) });
}

/** The whole enrolment: code, passkey; the browser ends logged in. */
export async function enrolStaff(t: TestApp, login?: string): Promise<{ b: Browser; authenticator: SoftAuthenticator; login: string; staffId: string; code: string }> {
  const staff = await newStaff(t, login);
  const b = new Browser(t);
  const authenticator = authenticatorFor(t);
  const res = await submitEnrolmentCode(b, staff.code);
  assert.equal(res.statusCode, 303, res.body);
  const done = await registerAt(b, String(res.headers.location), authenticator);
  assert.equal(done.statusCode, 200, done.body);
  assert.deepEqual(done.json(), { redirect: '/console' });
  assert.ok(b.jar.get(STAFF_COOKIE));
  return { b, authenticator, ...staff };
}

/** A login with the passkey alone at /console/login. */
export async function staffLogin(b: Browser, authenticator: SoftAuthenticator): Promise<LightMyRequestResponse> {
  await b.get('/console/login');
  const started = await postJson(b, '/console/login/options', { method: 'passkey' });
  assert.equal(started.statusCode, 200, started.body);
  const { flow, options } = started.json<{ flow: string; options: RequestOptions }>();
  return postJson(b, `/console/login/${flow}`, { method: 'passkey', credential: authenticator.get(options) });
}

/** At a step-up page: the passkey answered; returns what passkey.js is told to do. */
export async function stepUpAt(b: Browser, url: string, authenticator: SoftAuthenticator): Promise<LightMyRequestResponse> {
  const page = await b.get(url);
  assert.equal(page.statusCode, 200, page.body);
  const started = await postJson(b, `${url}/options`, { method: 'passkey' });
  assert.equal(started.statusCode, 200, started.body);
  const { options } = started.json<{ options: RequestOptions }>();
  return postJson(b, `${url}/passkey`, { method: 'passkey', credential: authenticator.get(options) });
}

/** What passkey.js does with a kept form: post it again with the step-up page's CSRF token. */
export async function postKeptForm(b: Browser, answer: LightMyRequestResponse): Promise<LightMyRequestResponse> {
  const { form } = answer.json<{ form: { action: string; fields: Record<string, string> } }>();
  return b.post(form.action, form.fields);
}

export async function auditTypes(t: TestApp, prefix: string): Promise<{ type: string; actor: string; payload: Record<string, unknown> }[]> {
  return system(t.deps.db, 'test', async (tx) => {
    const { rows } = await tx.query<{ type: string; actor: string; payload: Record<string, unknown> }>(`SELECT type, actor, payload FROM audit_log WHERE type LIKE $1 ORDER BY seq`, [`${prefix}%`]);
    return rows;
  });
}
