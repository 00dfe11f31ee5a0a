import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditSeq, auditSince, sessionsOf } from '../support/rules-db.ts';
import { Browser, citizenWithPassword, lastCode, logIn, mailsFor, submitPassword, type Citizen } from '../support/login.ts';
import { onEachBackend } from '../support/suites.ts';
import { appCode, atTotpStep, citizenAtEnrolment, citizenWithApp, codesIn, enrolApp, recoveryRows, secretIn, totpRows, wrongAppCode } from '../support/totp.ts';
import type { TestApp } from '../support/app.ts';

const MINUTE = 60_000;

const withApp = citizenWithApp;

/** Password + app code in a new browser: asserts a session was opened. */
async function logInWithApp(t: TestApp, c: Citizen, secret: string): Promise<Browser> {
  const b = new Browser(t);
  const flow = await atTotpStep(b, c);
  const res = await b.post(`${flow}/totp`, { method: 'totp', code: appCode(secret, t.clock) });
  assert.equal(res.statusCode, 303, 'app code refused');
  assert.equal(res.headers.location, '/account');
  t.clock.advance(30_000);
  return b;
}

onEachBackend('authenticator app and recovery codes', ({ t, tdb }) => {
  test('enrolment after a password + email code login: QR code and key, first code, 10 recovery codes shown once, mail to the address on file', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const since = await auditSeq(t.deps.db);

    const page = await b.get('/account/security/totp/new');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<div class="fr-mb-2w" id="totp-qr" role="img" aria-label="[^"]+"><svg width="200" height="200"[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, 'inline SVG QR code');
    assert.match(page.body, /name="pending" value="[A-Za-z0-9_-]+"/);
    assert.doesNotMatch(page.body, /otpauth:/, 'the URI is in the QR code only');
    for (const pii of [c.nir, c.email, c.familyName]) assert.ok(!page.body.includes(pii), 'no personal data on the page');
    const secret = secretIn(page.body);
    assert.match(secret, /^[A-Z2-7]{32}$/);

    const { codes, res } = await enrolApp(b);
    assert.match(String(res.headers['cache-control']), /no-store/);
    assert.match(res.body, /Téléphone de Camille/);
    assert.match(res.body, /opérations sensibles qu’à partir du/, 'cooling-off: added from an eidas1 session');
    assert.equal(new Set(codes).size, 10);

    const mails = await mailsFor(t, c.accountId);
    const added = mails.find((m) => m.template === 'authenticator-changed');
    assert.ok(added, 'the owner is told');
    assert.equal(added.to, c.email);
    assert.equal(added.params.kind, 'totp');
    assert.equal(added.params.change, 'added');

    const events = (await auditSince(t.deps.db, since)).filter((e) => e.accountId === c.accountId).map((e) => e.type);
    assert.ok(events.includes('authenticator.added'));
    assert.ok(events.includes('recovery-codes.generated'));

    // At rest: the secret encrypted, the codes as MACs.
    const [row] = await totpRows(t.deps.db, c.accountId);
    assert.ok(row);
    assert.ok(!Buffer.from(row.secret).toString('latin1').includes(secretIn(page.body).slice(0, 8)));
    const stored = await recoveryRows(t, c.accountId);
    assert.equal(stored.length, 10);
    for (const r of stored) for (const code of codes) assert.ok(!Buffer.from(r.code_mac).toString('latin1').includes(code.replace('-', '')));

    assert.equal((await totpRows(t.deps.db, c.accountId)).length, 1);
  });

  test('the form keeps the name, never the code, and says what is wrong; a reload of the codes page adds the app once', async () => {
    const { c, b, page, secret, pending } = await citizenAtEnrolment(t);

    const noName = await b.post('/account/security/totp/new', { method: 'totp', pending, name: '  ', code: wrongAppCode(secret, t.clock) });
    assert.equal(noName.statusCode, 400);
    assert.match(noName.body, /Donnez un nom à cette application\./);
    assert.match(noName.body, /Ce code ne correspond pas\./);
    assert.equal(secretIn(noName.body), secret, 'the same secret: the app already scanned it');

    const wrong = wrongAppCode(secret, t.clock);
    const badCode = await b.post('/account/security/totp/new', { method: 'totp', pending, name: 'Mon <téléphone>', code: wrong });
    assert.equal(badCode.statusCode, 400);
    assert.match(badCode.body, /id="name" name="name" type="text" value="Mon &lt;téléphone&gt;"/);
    assert.doesNotMatch(badCode.body, new RegExp(`value="${wrong}"`));

    // Sent twice at once (double click) and then once more (reload): one app, one set of codes.
    const good = { method: 'totp', pending, name: 'Mon téléphone', code: appCode(secret, t.clock) };
    const results = await Promise.all([b.post('/account/security/totp/new', good, page.body), b.post('/account/security/totp/new', good, page.body)]);
    const shown = results.filter((r) => r.statusCode === 200);
    assert.equal(shown.length, 1, `statuses ${results.map((r) => r.statusCode).join(', ')}`);
    const other = results.find((r) => r !== shown[0]);
    assert.equal(other?.statusCode, 303);
    assert.match(String(other?.headers.location), /^\/(account\/security|step-up\/[0-9a-f-]{36})$/);
    const codes = codesIn(shown[0]?.body ?? '');
    const reload = await b.post('/account/security/totp/new', good, page.body);
    assert.equal(reload.statusCode, 303, 'now behind a step-up: the account has an app');
    assert.equal((await totpRows(t.deps.db, c.accountId)).length, 1, 'one app');
    assert.equal((await recoveryRows(t, c.accountId)).length, 10, 'the codes shown are still the ones that work');
    assert.equal(codes.length, 10);
  });

  test('a sealed secret from another session, or past its time, is refused: a new one is offered', async () => {
    const { c, b, secret, pending } = await citizenAtEnrolment(t);

    const other = new Browser(t);
    await logIn(other, c);
    await other.get('/account/security/totp/new');
    const lifted = await other.post('/account/security/totp/new', { method: 'totp', pending, name: 'Volé', code: appCode(secret, t.clock) });
    assert.equal(lifted.statusCode, 400);
    assert.match(lifted.body, /Cette page a expiré/);
    assert.notEqual(secretIn(lifted.body), secret);

    const tampered = `${pending.slice(0, -4)}AAAA`;
    const forged = await b.post('/account/security/totp/new', { method: 'totp', pending: tampered, name: 'X', code: appCode(secret, t.clock) });
    assert.equal(forged.statusCode, 400);
    assert.equal((await totpRows(t.deps.db, c.accountId)).length, 0);
  });

  test('without a fresh email code, enrolment asks for one first and comes back', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    t.clock.advance(6 * MINUTE);
    const res = await b.get('/account/security/totp/new');
    assert.equal(res.statusCode, 303);
    const confirm = String(res.headers.location);
    assert.match(confirm, /^\/confirm\/[0-9a-f-]{36}$/);
    await b.get(confirm);
    t.clock.advance(1000);
    assert.equal((await b.post(`${confirm}/send`, { method: 'email-code' })).statusCode, 303);
    await b.get(confirm);
    const back = await b.post(confirm, { method: 'email-code', code: await lastCode(t, c.accountId) });
    assert.equal(back.statusCode, 303);
    assert.equal(back.headers.location, '/account/security/totp/new');
    await enrolApp(b);
    assert.equal((await totpRows(t.deps.db, c.accountId)).length, 1);
  });

  test('login with password + app code: an eidas2 session with amr mfa, otp, pwd', async () => {
    const { c, secret } = await withApp(t);
    await logInWithApp(t, c, secret);
    const sessions = await sessionsOf(tdb.db, c.accountId);
    const last = sessions.at(-1);
    assert.equal(last?.level, 'eidas2');
    assert.deepEqual(last?.amr, ['mfa', 'otp', 'pwd']);
  });

  test('with an app on the account, adding another one needs a step-up (password + app), then it is not cooled off', async () => {
    const { c, secret } = await withApp(t);
    const b = new Browser(t);
    await logIn(b, c);
    const res = await b.get('/account/security/totp/new');
    assert.equal(res.statusCode, 303);
    const stepUp = String(res.headers.location);
    assert.match(stepUp, /^\/step-up\/[0-9a-f-]{36}$/);
    await b.get(stepUp);
    assert.equal((await b.post(stepUp, { method: 'password', password: c.password })).statusCode, 303);
    const offered = await b.get(stepUp);
    assert.match(offered.body, new RegExp(`href="${stepUp}/totp"`), 'the step-up page offers the app');
    assert.match(offered.body, new RegExp(`href="${stepUp}/recovery-code"`));
    await b.get(`${stepUp}/totp`);
    const done = await b.post(`${stepUp}/totp`, { method: 'totp', code: appCode(secret, t.clock) });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/account/security/totp/new');
    const { res: added } = await enrolApp(b, 'Tablette');
    assert.doesNotMatch(added.body, /opérations sensibles qu’à partir du/, 'added from an eidas2 session');
    const sessions = await sessionsOf(tdb.db, c.accountId);
    assert.equal(sessions.at(-1)?.level, 'eidas2', 'the step-up raised the session');
    assert.equal((await totpRows(t.deps.db, c.accountId)).length, 2);
  });

  test('each recovery code logs in once (eidas2), typed loosely or not', async () => {
    const { c, codes } = await withApp(t);
    const [first = '', second = ''] = codes;

    const b = new Browser(t);
    const flow = await atTotpStep(b, c, 'recovery-code');
    const ok = await b.post(`${flow}/recovery-code`, { method: 'recovery-code', code: first });
    assert.equal(ok.statusCode, 303);
    assert.equal(ok.headers.location, '/account');
    const session = (await sessionsOf(tdb.db, c.accountId)).at(-1);
    assert.equal(session?.level, 'eidas2');
    assert.deepEqual(session?.amr, ['mfa', 'otp', 'pwd']);

    const b2 = new Browser(t);
    const flow2 = await atTotpStep(b2, c, 'recovery-code');
    const reused = await b2.post(`${flow2}/recovery-code`, { method: 'recovery-code', code: first });
    assert.equal(reused.statusCode, 400);
    assert.match(reused.body, /incorrect ou a déjà été utilisé\. Il vous reste 4 essai\(s\)\./);
    const loose = await b2.post(`${flow2}/recovery-code`, { method: 'recovery-code', code: ` ${second.replace('-', ' ').toLowerCase()} ` });
    assert.equal(loose.statusCode, 303);
    assert.equal((await recoveryRows(t, c.accountId)).filter((r) => r.used_at !== null).length, 2);
  });

  test('new recovery codes (a sensitive operation): the old ones stop working, the owner is told', async () => {
    const { c, secret, codes: old } = await withApp(t);
    const weak = new Browser(t);
    await logIn(weak, c);
    await weak.get('/account');
    const refused = await weak.post('/account/security/recovery-codes', {});
    assert.equal(refused.statusCode, 303);
    assert.match(String(refused.headers.location), /^\/step-up\//, 'an eidas1 session is sent to a step-up');

    const b = await logInWithApp(t, c, secret);
    await b.get('/account');
    const since = await auditSeq(t.deps.db);
    t.clock.advance(1000);
    const res = await b.post('/account/security/recovery-codes', {});
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['cache-control']), /no-store/);
    const fresh = codesIn(res.body);
    assert.equal(fresh.length, 10);
    assert.ok(fresh.every((code) => !old.includes(code)));
    assert.equal((await recoveryRows(t, c.accountId)).length, 10, 'the old set is gone');

    const mail = (await mailsFor(t, c.accountId)).find((m) => m.template === 'authenticator-changed');
    assert.equal(mail?.params.kind, 'recovery-codes');
    assert.equal(mail?.params.change, 'regenerated');
    const events = (await auditSince(t.deps.db, since)).filter((e) => e.accountId === c.accountId);
    assert.deepEqual(events.find((e) => e.type === 'recovery-codes.generated')?.payload, { count: 10 });

    const other = new Browser(t);
    const flow = await atTotpStep(other, c, 'recovery-code');
    assert.equal((await other.post(`${flow}/recovery-code`, { method: 'recovery-code', code: old[0] ?? '' })).statusCode, 400, 'an old code');
    assert.equal((await other.post(`${flow}/recovery-code`, { method: 'recovery-code', code: fresh[0] ?? '' })).statusCode, 303, 'a new code');
  });

  test('the app pages of a login are offered only once the password is verified, and only to an account with an app', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    const flow = await submitPassword(b, c);
    const res = await b.get(`${flow}/totp`);
    assert.equal(res.statusCode, 303, 'no app: back to the flow page');
    assert.equal(res.headers.location, flow);
    const unknown = await b.get('/login/00000000-0000-4000-8000-000000000000/totp');
    assert.equal(unknown.statusCode, 404);
  });
});
