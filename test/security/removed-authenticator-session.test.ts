import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listAuthenticators, type AuthenticatorKind } from '../../src/auth/authenticators.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { onEachBackend } from '../support/suites.ts';
import type { TestApp } from '../support/app.ts';
import { agencyBankDetails, auditTypes, fileEvents, shownIn } from '../support/contact-bank.ts';
import { Browser, citizenWithPassword, logIn, mailsFor, pastCoolingOff, type Citizen } from '../support/login.ts';
import { auditPayloads, authenticatorFor, enrolPasskey, passkeyLogin, postJson } from '../support/passkeys.ts';
import { appCode, atTotpStep, enrolApp } from '../support/totp.ts';
import type { SoftAuthenticator, RequestOptions } from '../support/webauthn.ts';

/**
 * Someone who had the password and the mailbox for a while (phished in real time) added their
 * own authenticator. Past its cooling-off it gives them an eidas2 session that can change the
 * bank details. When the owner removes it, that session must end with it: a level never
 * outlives the authenticator that gave it. The owner's own sessions, raised by another
 * authenticator, are untouched.
 */

const IBAN = 'FR7630006000011234567890189';
const OTHER_IBAN = 'FR7610107001011234567890129';

async function idOf(t: TestApp, c: Citizen, kind: AuthenticatorKind): Promise<string> {
  const [found] = await citizen(t.deps.db, c.accountId, (tx) => listAuthenticators(tx, t.deps.ring, c.accountId, kind));
  assert.ok(found, `the account has a ${kind}`);
  return found.id;
}

/** A GET of a page behind the enrolment gate sends an eidas1 session to a step-up: its URL. */
async function stepUpAsked(b: Browser): Promise<string> {
  const page = await b.get('/account/security/passkeys/new');
  assert.equal(page.statusCode, 303);
  const stepUp = String(page.headers.location);
  assert.match(stepUp, /^\/step-up\/[0-9a-f-]{36}$/);
  return stepUp;
}

/** Raises the browser's session with the password and the app's code. */
async function stepUpWithApp(b: Browser, c: Citizen, secret: string): Promise<void> {
  const stepUp = await stepUpAsked(b);
  await b.get(stepUp);
  assert.equal((await b.post(stepUp, { method: 'password', password: c.password })).headers.location, stepUp);
  await b.get(`${stepUp}/totp`);
  b.t.clock.advance(30_000);
  const done = await b.post(`${stepUp}/totp`, { method: 'totp', code: appCode(secret, b.t.clock) });
  assert.equal(done.statusCode, 303, 'step-up completed');
}

/** Raises the browser's session with a passkey. */
async function stepUpWithPasskey(b: Browser, key: SoftAuthenticator): Promise<void> {
  const stepUp = await stepUpAsked(b);
  await b.get(stepUp);
  const started = await postJson(b, `${stepUp}/passkey/options`, { method: 'passkey' });
  assert.equal(started.statusCode, 200, started.body);
  const done = await postJson(b, `${stepUp}/passkey`, { method: 'passkey', credential: key.get(started.json<{ options: RequestOptions }>().options) });
  assert.equal(done.statusCode, 200, done.body);
}

/** A login with the password and the app's code. */
async function appLogin(b: Browser, c: Citizen, secret: string): Promise<void> {
  const flow = await atTotpStep(b, c);
  b.t.clock.advance(30_000);
  const res = await b.post(`${flow}/totp`, { method: 'totp', code: appCode(secret, b.t.clock) });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/account');
}

/** The bank-details form posted as is: 303 to /login for a dead session. */
async function tryBankChange(b: Browser): Promise<{ status: number; location: string }> {
  const page = await b.get('/account/bank-details');
  if (page.statusCode !== 200) return { status: page.statusCode, location: String(page.headers.location ?? '') };
  const res = await b.post('/account/bank-details', { iban: OTHER_IBAN, holder: 'Voleur', shown: shownIn(page.body, '/account/bank-details') });
  return { status: res.statusCode, location: String(res.headers.location ?? '') };
}

const endReasons = (t: TestApp, c: Citizen) =>
  system(t.deps.db, 'test', async (tx) => (await tx.query<{ id: string; end_reason: string | null }>(`SELECT id, end_reason FROM sessions WHERE account_id = $1 ORDER BY created_at`, [c.accountId])).rows);

const bankChanges = async (t: TestApp, c: Citizen): Promise<number> => (await fileEvents(t, c.accountId)).filter((e) => e.type === 'bank-details.changed').length;

onEachBackend('a session raised by an authenticator that was removed', ({ t }) => {
  test("the intruder's passkey: its session ends when the owner removes it; the owner's sessions go on", async () => {
    const c = await citizenWithPassword(t);
    await agencyBankDetails(t, c.accountId, IBAN);
    // The intruder's passkey, added while they held the password and a code, and the owner's app.
    const setup = new Browser(t);
    await logIn(setup, c);
    const intruderKey = authenticatorFor(t);
    await enrolPasskey(setup, intruderKey, 'Clé');
    const { secret } = await enrolApp(setup);
    await pastCoolingOff(t, c.accountId);
    const passkeyId = await idOf(t, c, 'passkey');

    const intruder = new Browser(t);
    intruder.ip = '198.51.100.66';
    assert.equal((await passkeyLogin(intruder, intruderKey)).statusCode, 200);
    assert.equal((await intruder.get('/account')).statusCode, 200);
    // The owner's other browser, logged in with the app: raised by another authenticator.
    const ownerPhone = new Browser(t);
    await appLogin(ownerPhone, c, secret);
    // The owner removes the passkey, after a step-up with their app.
    const owner = new Browser(t);
    await logIn(owner, c);
    await stepUpWithApp(owner, c, secret);
    await owner.get('/account/security');
    const removed = await owner.post(`/account/security/authenticators/${passkeyId}/remove`, {});
    assert.equal(removed.statusCode, 303);
    assert.equal(removed.headers.location, '/account/security?done=authenticator-removed');

    const before = await bankChanges(t, c);
    const next = await intruder.get('/account');
    assert.equal(next.statusCode, 303, "the intruder's session ended");
    assert.equal(next.headers.location, '/login');
    const bank = await tryBankChange(intruder);
    assert.equal(bank.status, 303);
    assert.equal(bank.location, '/login', 'no change of bank details');
    assert.equal(await bankChanges(t, c), before);

    assert.equal((await owner.get('/account')).statusCode, 200, "the owner's session goes on");
    assert.equal((await ownerPhone.get('/account')).statusCode, 200, 'a session raised by the app is untouched');
    const reasons = await endReasons(t, c);
    assert.equal(reasons.filter((r) => r.end_reason === 'authenticator-removed').length, 1);
    const ended = (await auditPayloads(t, 'sessions.ended', c.accountId)).filter((p) => p.reason === 'authenticator-removed');
    assert.equal(ended.length, 1);
    assert.equal(ended[0]?.count, 1);
    assert.equal((await mailsFor(t, c.accountId)).find((m) => m.template === 'authenticator-changed')?.params.change, 'removed');
  });

  /** The owner's passkey, and an authenticator app the intruder added, both past their cooling-off. */
  async function ownerKeyAndIntruderApp(): Promise<{ c: Citizen; ownerKey: SoftAuthenticator; app: { id: string; secret: string; codes: string[] } }> {
    const c = await citizenWithPassword(t);
    const setup = new Browser(t);
    await logIn(setup, c);
    const ownerKey = authenticatorFor(t);
    await enrolPasskey(setup, ownerKey, 'Ma clé');
    const { secret, codes } = await enrolApp(setup, 'Appli');
    await pastCoolingOff(t, c.accountId);
    return { c, ownerKey, app: { id: await idOf(t, c, 'totp'), secret, codes } };
  }

  /** The owner logs in, steps up with their passkey and removes the authenticator `id`. */
  async function ownerRemovesWithPasskey(c: Citizen, ownerKey: SoftAuthenticator, id: string): Promise<{ owner: Browser; removed: Awaited<ReturnType<Browser['post']>> }> {
    const owner = new Browser(t);
    await logIn(owner, c);
    await stepUpWithPasskey(owner, ownerKey);
    await owner.get('/account/security');
    return { owner, removed: await owner.post(`/account/security/authenticators/${id}/remove`, {}) };
  }

  test("the intruder's authenticator app: same, and the owner's passkey sessions go on", async () => {
    const { c, ownerKey, app } = await ownerKeyAndIntruderApp();
    const { secret: intruderSecret, id: appId } = app;

    const intruder = new Browser(t);
    intruder.ip = '198.51.100.66';
    await appLogin(intruder, c, intruderSecret);
    assert.equal((await intruder.get('/account')).statusCode, 200);
    const ownerLaptop = new Browser(t);
    assert.equal((await passkeyLogin(ownerLaptop, ownerKey)).statusCode, 200);

    const { owner, removed } = await ownerRemovesWithPasskey(c, ownerKey, appId);
    assert.equal(removed.headers.location, '/account/security?done=authenticator-removed');

    const next = await intruder.get('/account');
    assert.equal(next.statusCode, 303);
    assert.equal(next.headers.location, '/login');
    assert.equal((await tryBankChange(intruder)).location, '/login');
    assert.equal((await owner.get('/account')).statusCode, 200);
    assert.equal((await ownerLaptop.get('/account')).statusCode, 200, 'a session raised by the passkey is untouched');
    assert.equal((await auditTypes(t, c.accountId, 'sessions.ended')).filter((e) => e.payload.reason === 'authenticator-removed').length, 1);
  });

  test("a session opened with one of the intruder app's recovery codes ends with the app", async () => {
    const { c, ownerKey, app } = await ownerKeyAndIntruderApp();
    const { codes, id: appId } = app;

    const intruder = new Browser(t);
    intruder.ip = '198.51.100.67';
    const flow = await atTotpStep(intruder, c, 'recovery-code');
    const res = await intruder.post(`${flow}/recovery-code`, { method: 'recovery-code', code: codes[0] ?? '' });
    assert.equal(res.headers.location, '/account', 'logged in with a recovery code');
    assert.equal((await intruder.get('/account')).statusCode, 200);

    const { removed } = await ownerRemovesWithPasskey(c, ownerKey, appId);
    assert.equal(removed.headers.location, '/account/security?done=authenticator-removed');
    const next = await intruder.get('/account');
    assert.equal(next.statusCode, 303);
    assert.equal(next.headers.location, '/login');
  });

  test('a session raised at a step-up (not at login) by the removed authenticator ends too', async () => {
    const c = await citizenWithPassword(t);
    const setup = new Browser(t);
    await logIn(setup, c);
    const intruderKey = authenticatorFor(t);
    await enrolPasskey(setup, intruderKey, 'Clé');
    const { secret } = await enrolApp(setup);
    await pastCoolingOff(t, c.accountId);
    const passkeyId = await idOf(t, c, 'passkey');

    // Logged in with the phished password and code (eidas1), raised with the planted passkey.
    const intruder = new Browser(t);
    await logIn(intruder, c);
    await stepUpWithPasskey(intruder, intruderKey);
    const owner = new Browser(t);
    await logIn(owner, c);
    await stepUpWithApp(owner, c, secret);
    await owner.get('/account/security');
    assert.equal((await owner.post(`/account/security/authenticators/${passkeyId}/remove`, {})).statusCode, 303);
    assert.equal((await intruder.get('/account')).headers.location, '/login');
    assert.equal((await owner.get('/account')).statusCode, 200);
  });

  test('removing the authenticator that raised this very session ends it as well', async () => {
    const c = await citizenWithPassword(t);
    const setup = new Browser(t);
    await logIn(setup, c);
    const key = authenticatorFor(t);
    await enrolPasskey(setup, key, 'Clé');
    await enrolApp(setup);
    await pastCoolingOff(t, c.accountId);
    const passkeyId = await idOf(t, c, 'passkey');

    const b = new Browser(t);
    assert.equal((await passkeyLogin(b, key)).statusCode, 200);
    await b.get('/account/security');
    const removed = await b.post(`/account/security/authenticators/${passkeyId}/remove`, {});
    assert.equal(removed.statusCode, 303);
    assert.equal(removed.headers.location, '/login', 'what is left of it is no level');
    assert.equal((await b.get('/account')).headers.location, '/login');
    assert.equal((await setup.get('/account')).statusCode, 200, 'a session it did not raise goes on');
  });
});
