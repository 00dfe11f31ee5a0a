import assert from 'node:assert/strict';
import { test } from 'node:test';
import { citizen, system } from '../../src/db/contexts.ts';
import { SESSION_COOKIE } from '../../src/auth/session-plugin.ts';
import { Browser, citizenWithPassword, logIn, mailsFor, pastCoolingOff } from '../support/login.ts';
import { auditPayloads, authenticatorFor, enrolmentOptions, enrolPasskey, loginOptions, passkeyLogin, postJson } from '../support/passkeys.ts';
import { onEachBackend } from '../support/suites.ts';

/** Passkeys: enrolment behind its gate, login with the passkey alone (eidas2), the counter, the challenge. */
onEachBackend('passkeys', ({ t }) => {
  async function loggedIn(): Promise<{ b: Browser; accountId: string; nir: string }> {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    return { b, accountId: c.accountId, nir: c.nir };
  }

  test('enrolment after a login with a fresh email code: a named passkey that cools off, and a mail', async () => {
    const { b, accountId, nir } = await loggedIn();
    const page = await b.get('/account/security/passkeys/new');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Ajouter une clé d’accès/);
    assert.match(page.body, /src="\/assets\/passkey\.js\?v=/);
    const { res, flow, options } = await enrolmentOptions(b, '  Mon   téléphone ');
    assert.equal(res.statusCode, 200);
    // The user handle and names the authenticator keeps say nothing about the citizen.
    assert.notEqual(Buffer.from(options.user.id, 'base64url').toString('utf8'), accountId);
    assert.ok(!options.user.name.includes(nir) && !options.user.displayName.includes(nir));
    assert.equal(options.authenticatorSelection?.residentKey, 'required');
    assert.equal(options.authenticatorSelection?.userVerification, 'required');
    assert.equal(options.rp.id, t.deps.config.webauthn.rpId);

    const authenticator = authenticatorFor(t);
    const done = await postJson(b, '/account/security/passkeys', { method: 'passkey', flow, name: '  Mon   téléphone ', credential: authenticator.create(options) });
    assert.equal(done.statusCode, 200, done.body);
    assert.deepEqual(done.json(), { redirect: '/account/security' });

    const rows = await citizen(t.deps.db, accountId, (tx) =>
      tx.query<{ kind: string; sensitive_from: Date; counter: string; transports: string[] }>(
        `SELECT a.kind, a.sensitive_from, p.counter::text AS counter, p.transports FROM authenticators a JOIN passkey_credentials p ON p.authenticator_id = a.id`,
      ),
    );
    assert.equal(rows.rows.length, 1);
    assert.equal(rows.rows[0]?.kind, 'passkey');
    assert.ok((rows.rows[0]?.sensitive_from.getTime() ?? 0) > t.clock.now().getTime(), 'added after an email code only: it cools off');
    assert.deepEqual(rows.rows[0]?.transports, ['internal']);
    const { listAuthenticators } = await import('../../src/auth/authenticators.ts');
    const listed = await citizen(t.deps.db, accountId, (tx) => listAuthenticators(tx, t.deps.ring, accountId));
    assert.equal(listed[0]?.name, 'Mon téléphone');
    assert.ok((await mailsFor(t, accountId)).some((m) => m.template === 'authenticator-changed'));
  });

  test('enrolment needs a name of 1 to 60 characters, shown before the ceremony', async () => {
    const { b } = await loggedIn();
    await b.get('/account/security/passkeys/new');
    const empty = await enrolmentOptions(b, '   ');
    assert.equal(empty.res.statusCode, 400);
    assert.equal(empty.res.json<{ error: string }>().error, 'name');
    const long = await enrolmentOptions(b, 'x'.repeat(61));
    assert.equal(long.res.statusCode, 400);
    assert.match(long.res.json<{ message: string }>().message, /60 caractères/);
  });

  test('enrolment gate: a stale email code sends to a confirmation; JSON endpoints answer 403', async () => {
    const { b } = await loggedIn();
    await b.get('/account/security/passkeys/new');
    t.clock.advance((t.deps.config.auth.stepUpMaxAge + 1) * 1000);
    const page = await b.get('/account/security/passkeys/new');
    assert.equal(page.statusCode, 303);
    assert.match(String(page.headers.location), /^\/confirm\/[0-9a-f-]{36}$/);
    const refused = await enrolmentOptions(b, 'Clé');
    assert.equal(refused.res.statusCode, 403);
  });

  test('enrolment gate: with a passkey already (past its cooling-off), an eidas1 session must step up first', async () => {
    const { b, accountId } = await loggedIn();
    await enrolPasskey(b, authenticatorFor(t));
    await pastCoolingOff(t, accountId);
    const page = await b.get('/account/security/passkeys/new');
    assert.equal(page.statusCode, 303);
    assert.match(String(page.headers.location), /^\/step-up\/[0-9a-f-]{36}$/);
    assert.equal((await enrolmentOptions(b, 'Deuxième')).res.statusCode, 403);
  });

  test('an enrolment challenge answers once, whatever the first answer was', async () => {
    const { b, accountId } = await loggedIn();
    await b.get('/account/security/passkeys/new');
    const authenticator = authenticatorFor(t);
    const { flow, options } = await enrolmentOptions(b, 'Clé');
    const phished = await postJson(b, '/account/security/passkeys', { method: 'passkey', flow, name: 'Clé', credential: authenticator.create(options, { origin: 'https://phishing.example' }) });
    assert.equal(phished.statusCode, 400);
    const again = await postJson(b, '/account/security/passkeys', { method: 'passkey', flow, name: 'Clé', credential: authenticator.create(options) });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json<{ error: string }>().error, 'flow');
    const kept = await citizen(t.deps.db, accountId, (tx) => tx.query(`SELECT 1 FROM passkey_credentials`));
    assert.equal(kept.rows.length, 0);
  });

  test('login with the passkey alone: eidas2, amr hwk + mfa + user, the authenticator marked used', async () => {
    const { b, accountId } = await loggedIn();
    const authenticator = authenticatorFor(t);
    await enrolPasskey(b, authenticator);

    const other = new Browser(t);
    const { options } = await loginOptions(other);
    assert.ok(!options.allowCredentials || options.allowCredentials.length === 0, 'discoverable: nobody is known yet');
    assert.equal(options.userVerification, 'required');
    t.clock.advance(1000);
    const res = await passkeyLogin(other, authenticator);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { redirect: '/account' });
    assert.ok(other.jar.get(SESSION_COOKIE), 'a session cookie is set');
    assert.equal((await other.get('/account')).statusCode, 200);

    const sessions = await system(t.deps.db, 'test', (tx) =>
      tx.query<{ level: string; amr: string[] }>(`SELECT level, amr FROM sessions WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1`, [accountId]),
    );
    assert.equal(sessions.rows[0]?.level, 'eidas2');
    assert.deepEqual(sessions.rows[0]?.amr, ['hwk', 'mfa', 'user']);
    const used = await citizen(t.deps.db, accountId, (tx) => tx.query<{ last_used_at: Date | null }>(`SELECT last_used_at FROM authenticators WHERE account_id = $1`, [accountId]));
    assert.ok(used.rows[0]?.last_used_at);
  });

  test('a counter that goes backwards is a clone: refused and audited', async () => {
    const { b, accountId } = await loggedIn();
    const authenticator = authenticatorFor(t);
    await enrolPasskey(b, authenticator);
    assert.equal((await passkeyLogin(new Browser(t), authenticator)).statusCode, 200);
    assert.equal((await passkeyLogin(new Browser(t), authenticator)).statusCode, 200);
    const credential = authenticator.credentials[0];
    assert.ok(credential);
    credential.counter = 0; // the clone was copied before those two logins: its next value is 1
    const res = await passkeyLogin(new Browser(t), authenticator);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json<{ error: string }>().error, 'refused');
    assert.ok((await auditPayloads(t, 'method.failed', accountId)).some((p) => p.reason === 'counter' && p.method === 'passkey'));
  });

  test('user verification is required', async () => {
    const { b } = await loggedIn();
    const authenticator = authenticatorFor(t);
    await enrolPasskey(b, authenticator);
    authenticator.flags = 0x01; // presence only
    assert.equal((await passkeyLogin(new Browser(t), authenticator)).statusCode, 401);
  });

  test('a login challenge answers once, whatever the first answer was', async () => {
    const { b } = await loggedIn();
    const authenticator = authenticatorFor(t);
    await enrolPasskey(b, authenticator);
    const other = new Browser(t);
    const { flow, options } = await loginOptions(other);
    const wrongOrigin = authenticator.get(options, { origin: 'https://phishing.example' });
    assert.equal((await postJson(other, `/login/passkey/${flow}`, { method: 'passkey', credential: wrongOrigin })).statusCode, 401);
    const genuine = await postJson(other, `/login/passkey/${flow}`, { method: 'passkey', credential: authenticator.get(options) });
    assert.equal(genuine.statusCode, 401, 'the challenge was spent by the first answer');
    assert.ok((await auditPayloads(t, 'method.failed')).some((p) => p.flowId === flow && p.reason === 'no-challenge'));
  });

  test('failures count against the client throttle', async () => {
    const { b } = await loggedIn();
    const authenticator = authenticatorFor(t);
    await enrolPasskey(b, authenticator);
    const attacker = new Browser(t);
    attacker.ip = '198.51.100.77';
    let last = 0;
    for (let i = 0; i <= t.deps.config.auth.ipMaxFailures; i += 1) {
      const { flow, options } = await loginOptions(attacker);
      const res = await postJson(attacker, `/login/passkey/${flow}`, { method: 'passkey', credential: authenticator.get(options, { origin: 'https://phishing.example' }) });
      last = res.statusCode;
    }
    assert.equal(last, 429);
  });
});

onEachBackend('passkey credentials under row-level security', ({ t }) => {
  test("a citizen sees only their own passkeys, cannot touch a counter, nor add one to another account", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const c = await citizenWithPassword(t);
      const b = new Browser(t);
      await logIn(b, c);
      await enrolPasskey(b, authenticatorFor(t));
      ids.push(c.accountId);
    }
    const [alice = '', bob = ''] = ids;
    const own = await citizen(t.deps.db, alice, (tx) => tx.query<{ account_id: string }>(`SELECT account_id FROM passkey_credentials`));
    assert.deepEqual(own.rows.map((r) => r.account_id), [alice]);
    const bobs = await system(t.deps.db, 'test', (tx) => tx.query<{ credential_id: Uint8Array }>(`SELECT credential_id FROM passkey_credentials WHERE account_id = $1`, [bob]));
    const seen = await citizen(t.deps.db, alice, (tx) => tx.query(`SELECT 1 FROM passkey_credentials WHERE credential_id = $1`, [Buffer.from(bobs.rows[0]?.credential_id ?? [])]));
    assert.equal(seen.rows.length, 0);
    await assert.rejects(citizen(t.deps.db, alice, (tx) => tx.query(`UPDATE passkey_credentials SET counter = 0`)), /permission denied/);
    await assert.rejects(
      citizen(t.deps.db, alice, (tx) =>
        tx.query(`INSERT INTO passkey_credentials (authenticator_id, account_id, credential_id, public_key, counter) SELECT id, $1, '\\x01', '\\x02', 0 FROM authenticators LIMIT 1`, [bob]),
      ),
      /row-level security/,
    );
  });
});
