import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { setPasswordHash } from '../../src/accounts/credentials.ts';
import { accountCipher } from '../../src/accounts/account-keys.ts';
import { hashPassword } from '../../src/crypto/passwords.ts';
import { system } from '../../src/db/contexts.ts';
import { openPayload } from '../../src/mail/outbox.ts';
import { newAccount, person, type PersonInput } from './fixtures.ts';
import { CookieJar, csrfTokenIn, form, type TestApp } from './app.ts';

export interface Citizen {
  accountId: string;
  nir: string;
  password: string;
  email: string;
  givenNames: string;
  familyName: string;
}

let n = 0;

/** An active account with a password and an email address. */
export async function citizenWithPassword(t: TestApp, input: PersonInput & { password?: string } = {}): Promise<Citizen> {
  const p = person(input);
  const accountId = await newAccount(t.deps.db, t.deps, { ...input, identity: p.identity, contact: p.contact, status: input.status ?? 'active' });
  const password = input.password ?? `correct horse battery staple ${++n}`;
  const hash = await hashPassword(password, t.deps.config.auth.argon2);
  await system(t.deps.db, 'test', (tx) => setPasswordHash(tx, t.deps.clock, accountId, hash));
  return { accountId, nir: p.identity.nir, password, email: p.contact.email ?? '', givenNames: p.identity.givenNames, familyName: p.identity.familyName };
}

/** Every mail queued for the account, decrypted, newest first (advance the ManualClock between mails of one kind). */
export async function mailsFor(t: TestApp, accountId: string): Promise<{ template: string; to: string; params: Record<string, unknown> }[]> {
  return system(t.deps.db, 'test', async (tx) => {
    const { rows } = await tx.query<{ id: string; template: string; payload: Uint8Array | null }>(
      `SELECT id, template, payload FROM outbox WHERE account_id = $1 ORDER BY created_at DESC, id`,
      [accountId],
    );
    const cipher = await accountCipher(tx, t.deps.ring, accountId);
    assert.ok(cipher);
    return rows.flatMap((r) => {
      if (!r.payload) return [];
      const p = openPayload(cipher, r.id, r.payload);
      return [{ template: r.template, to: p.to, params: p.params as Record<string, unknown> }];
    });
  });
}

/** The code of the newest one-time-code mail queued for the account. */
export async function lastCode(t: TestApp, accountId: string): Promise<string> {
  const mail = (await mailsFor(t, accountId)).find((m) => m.template === 'one-time-code');
  assert.ok(mail, 'no code mail was queued');
  return String(mail.params.code);
}

/** A browser: cookies kept between requests, CSRF token taken from the last page. */
export class Browser {
  readonly jar = new CookieJar();
  readonly t: TestApp;
  lastPage = '';
  userAgent = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
  ip = '203.0.113.7';
  /** Sent with every request (X-Forwarded-For, Accept-Language…). */
  headers: Record<string, string> = {};

  constructor(t: TestApp) {
    this.t = t;
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const res = await this.t.app.inject({ method: 'GET', url, cookies: this.jar.cookies(), headers: { 'user-agent': this.userAgent, ...this.headers }, remoteAddress: this.ip });
    this.jar.store(res);
    if (res.headers['content-type']?.toString().startsWith('text/html')) this.lastPage = res.body;
    return res;
  }

  /** Posts a form with the CSRF token of the last page fetched (or of `page`). */
  async post(url: string, fields: Record<string, string>, page = this.lastPage): Promise<LightMyRequestResponse> {
    const body = form({ _csrf: csrfTokenIn(page), ...fields });
    const res = await this.t.app.inject({
      method: 'POST',
      url,
      cookies: this.jar.cookies(),
      headers: { ...body.headers, 'user-agent': this.userAgent, ...this.headers },
      payload: body.payload,
      remoteAddress: this.ip,
    });
    this.jar.store(res);
    if (res.headers['content-type']?.toString().startsWith('text/html')) this.lastPage = res.body;
    return res;
  }
}

/** NIR + password → the flow's page (URL returned); asserts the password was accepted. */
export async function submitPassword(b: Browser, c: Pick<Citizen, 'nir' | 'password'>): Promise<string> {
  await b.get('/login');
  const res = await b.post('/login', { method: 'password', nir: c.nir, password: c.password });
  assert.equal(res.statusCode, 303, 'password step refused');
  const location = String(res.headers.location);
  assert.match(location, /^\/login\/[0-9a-f-]{36}$/);
  await b.get(location);
  return location;
}

/** The whole login: password, send code, read it from the outbox, submit it. */
export async function logIn(b: Browser, c: Citizen): Promise<LightMyRequestResponse> {
  // Outbox rows are ordered by time: a step of the clock keeps this login's code the newest.
  b.t.clock.advance(1000);
  const flow = await submitPassword(b, c);
  const sent = await b.post(`${flow}/send`, { method: 'email-code' });
  assert.equal(sent.statusCode, 303);
  await b.get(flow);
  const res = await b.post(flow, { method: 'email-code', code: await lastCode(b.t, c.accountId) });
  assert.equal(res.statusCode, 303, 'code refused');
  assert.equal(res.headers.location, '/account');
  return res;
}

/** A browser at the code step of a new account's login, with the code sent: the flow's URL and id, and the code. */
export async function atLoginCodeStep(t: TestApp): Promise<{ c: Citizen; b: Browser; flow: string; flowId: string; code: string }> {
  const c = await citizenWithPassword(t);
  const b = new Browser(t);
  const flow = await submitPassword(b, c);
  t.clock.advance(1000);
  assert.equal((await b.post(`${flow}/send`, { method: 'email-code' })).statusCode, 303);
  await b.get(flow);
  return { c, b, flow, flowId: flow.slice('/login/'.length), code: await lastCode(t, c.accountId) };
}

/** As if the account's authenticators had been added long ago: past their cooling-off. */
export async function pastCoolingOff(t: TestApp, accountId: string): Promise<void> {
  await system(t.deps.db, 'test', (tx) => tx.query(`UPDATE authenticators SET sensitive_from = $2 WHERE account_id = $1`, [accountId, t.clock.now()]));
}
