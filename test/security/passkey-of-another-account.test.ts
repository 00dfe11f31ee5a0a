import assert from 'node:assert/strict';
import { test } from 'node:test';
import { system } from '../../src/db/contexts.ts';
import { Browser, citizenWithPassword, logIn, pastCoolingOff } from '../support/login.ts';
import { auditPayloads, authenticatorFor, enrolPasskey, passkeyLogin, postJson } from '../support/passkeys.ts';
import { onEachBackend } from '../support/suites.ts';
import type { RequestOptions } from '../support/webauthn.ts';

/**
 * A passkey proves one account. Someone holding B's passkey and A's session (or A's step-up
 * page) must not raise A's session with it; an unknown credential opens nothing.
 */
onEachBackend('passkey of another account', ({ t }) => {
  async function withPasskey(): Promise<{ b: Browser; accountId: string; authenticator: ReturnType<typeof authenticatorFor>; c: Awaited<ReturnType<typeof citizenWithPassword>> }> {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const authenticator = authenticatorFor(t);
    await enrolPasskey(b, authenticator);
    return { b, accountId: c.accountId, authenticator, c };
  }

  /** A fresh eidas1 session of the citizen, sent to a step-up by the enrolment page: the step-up flow's id. */
  async function stepUpOf(c: Awaited<ReturnType<typeof citizenWithPassword>>): Promise<{ b: Browser; flowId: string }> {
    const b = new Browser(t);
    await logIn(b, c);
    await pastCoolingOff(t, c.accountId);
    const page = await b.get('/account/security/passkeys/new');
    assert.equal(page.statusCode, 303);
    const flowId = String(page.headers.location).slice('/step-up/'.length);
    return { b, flowId };
  }

  const level = async (accountId: string): Promise<string[]> =>
    (await system(t.deps.db, 'test', (tx) => tx.query<{ level: string }>(`SELECT level FROM sessions WHERE account_id = $1 AND ended_at IS NULL ORDER BY created_at`, [accountId]))).rows.map((r) => r.level);

  test("a step-up of account A with B's passkey is refused; A's own passkey raises it", async () => {
    const alice = await withPasskey();
    const bob = await withPasskey();
    const { b, flowId } = await stepUpOf(alice.c);

    const started = await postJson(b, `/step-up/${flowId}/passkey/options`, { method: 'passkey' });
    assert.equal(started.statusCode, 200, started.body);
    const { options } = started.json<{ options: RequestOptions }>();
    const allowed = (options.allowCredentials ?? []).map((c) => c.id);
    assert.deepEqual(allowed, alice.authenticator.credentials.map((c) => c.id.toString('base64url')), "only A's passkeys are offered");

    // B's authenticator answers A's challenge anyway (a malicious client ignores allowCredentials).
    const bobs = bob.authenticator.credentials[0];
    assert.ok(bobs);
    const refused = await postJson(b, `/step-up/${flowId}/passkey`, { method: 'passkey', credential: bob.authenticator.get(options, { use: bobs }) });
    assert.equal(refused.statusCode, 401);
    assert.ok((await auditPayloads(t, 'method.failed', alice.accountId)).some((p) => p.flowId === flowId && p.reason === 'other-account'));
    assert.ok(!(await level(alice.accountId)).includes('eidas2'), "A's sessions were not raised");

    const again = await postJson(b, `/step-up/${flowId}/passkey/options`, { method: 'passkey' });
    const ok = await postJson(b, `/step-up/${flowId}/passkey`, { method: 'passkey', credential: alice.authenticator.get(again.json<{ options: RequestOptions }>().options) });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { redirect: '/account/security/passkeys/new' });
    assert.ok((await level(alice.accountId)).includes('eidas2'));
  });

  test("B's session cannot answer A's step-up flow, even with A's flow id", async () => {
    const alice = await withPasskey();
    const bob = await withPasskey();
    const { flowId } = await stepUpOf(alice.c);
    const bobBrowser = new Browser(t);
    await logIn(bobBrowser, bob.c);
    const options = await postJson(bobBrowser, `/step-up/${flowId}/passkey/options`, { method: 'passkey' });
    assert.equal(options.statusCode, 404, 'the flow is bound to the browser and the session that asked for it, and answers as an unknown one');
    const bobs = bob.authenticator.credentials[0];
    assert.ok(bobs);
    const forged = await postJson(bobBrowser, `/step-up/${flowId}/passkey`, { method: 'passkey', credential: bob.authenticator.get({ challenge: 'AAAA' }, { use: bobs }) });
    assert.equal(forged.statusCode, 404);
  });

  test('a login with a credential this server never registered is refused', async () => {
    await withPasskey();
    const stranger = authenticatorFor(t);
    stranger.create({ challenge: 'x', rp: { id: t.deps.config.webauthn.rpId, name: 'x' }, user: { id: 'eA', name: 'x', displayName: 'x' } });
    const res = await passkeyLogin(new Browser(t), stranger);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json<{ error: string }>().error, 'refused');
    assert.ok((await auditPayloads(t, 'method.failed', null)).some((p) => p.reason === 'unknown-credential'));
  });

  test('a removed passkey no longer logs in', async () => {
    const alice = await withPasskey();
    await system(t.deps.db, 'test', (tx) => tx.query(`UPDATE authenticators SET removed_at = now() WHERE account_id = $1`, [alice.accountId]));
    assert.equal((await passkeyLogin(new Browser(t), alice.authenticator)).statusCode, 401);
  });
});
