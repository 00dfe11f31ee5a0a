import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { system } from '../../src/db/contexts.ts';
import type { TestApp } from './app.ts';
import { newAccount, person, type PersonInput } from './fixtures.ts';
import { lastCode, type Browser, type Citizen } from './login.ts';

/** An account created without a password, waiting for its owner to activate it. */
export interface PendingCitizen {
  accountId: string;
  nir: string;
  /** YYYY-MM-DD */
  birthDate: string;
  email: string;
}

export async function pendingCitizen(t: TestApp, input: PersonInput = {}): Promise<PendingCitizen> {
  const p = person(input);
  const accountId = await newAccount(t.deps.db, t.deps, { identity: p.identity, contact: p.contact, status: 'pending_activation' });
  return { accountId, nir: p.identity.nir, birthDate: p.identity.birthDate, email: p.contact.email ?? '' };
}

/** The citizen as login helpers want it, once a password is chosen. */
export const asCitizen = (c: PendingCitizen, password: string): Citizen => ({ ...c, password, givenNames: 'Camille', familyName: 'Martin' });

export async function accountStatus(t: TestApp, accountId: string): Promise<string | undefined> {
  return system(t.deps.db, 'test', async (tx) => (await tx.query<{ status: string }>(`SELECT status FROM accounts WHERE id = $1`, [accountId])).rows[0]?.status);
}

/**
 * What a page says, without what differs from one browser or flow to the next (flow ids in
 * form actions, CSRF tokens): two answers are "the same page" when this is equal.
 */
export function pageText(body: string): string {
  const main = /<main[\s\S]*<\/main>/.exec(body)?.[0] ?? body;
  return main.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<flow>').replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf"');
}

/** The text of the field error under the input `id`, or undefined. */
export function fieldError(body: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}-messages"[^>]*><p class="fr-message fr-message--error">([^<]*)</p>`).exec(body);
  return m?.[1];
}

/**
 * Posts the first form of a flow (`/activate` or `/recover`) and follows to the flow's page.
 * The clock moves one second first: lastCode() takes the newest mail, and mails queued at
 * the same instant have no order.
 */
export async function startFlow(b: Browser, path: '/activate' | '/recover', fields: Record<string, string>): Promise<{ post: LightMyRequestResponse; flow: string; page: LightMyRequestResponse }> {
  b.t.clock.advance(1000);
  await b.get(path);
  const post = await b.post(path, { method: 'email-code', ...fields });
  assert.equal(post.statusCode, 303, `${path} refused: ${post.statusCode}`);
  const flow = String(post.headers.location);
  assert.match(flow, new RegExp(`^${path}/[0-9a-f-]{36}$`));
  const page = await b.get(flow);
  return { post, flow, page };
}

/** Submits the code from the outbox; the flow's page then shows the new-password form. */
export async function verifyFlowCode(b: Browser, flow: string, accountId: string): Promise<void> {
  const res = await b.post(flow, { method: 'email-code', code: await lastCode(b.t, accountId) });
  assert.equal(res.statusCode, 303, 'code refused');
  assert.equal(res.headers.location, flow);
  const page = await b.get(flow);
  assert.match(page.body, /name="confirm"/, 'the new-password form is shown');
}

/** The whole activation, from the first form to the redirect to /login. */
export async function activate(b: Browser, c: PendingCitizen, password: string): Promise<LightMyRequestResponse> {
  const { flow } = await startFlow(b, '/activate', { nir: c.nir, birthDate: c.birthDate });
  await verifyFlowCode(b, flow, c.accountId);
  const res = await b.post(flow, { method: 'password', password, confirm: password });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/login?done=activated');
  return res;
}

/** The whole recovery, from the NIR to the redirect to /login. */
export async function recover(b: Browser, c: Pick<Citizen, 'nir' | 'accountId'>, password: string): Promise<LightMyRequestResponse> {
  const { flow } = await startFlow(b, '/recover', { nir: c.nir });
  await verifyFlowCode(b, flow, c.accountId);
  const res = await b.post(flow, { method: 'password', password, confirm: password });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/login?done=password-reset');
  return res;
}
