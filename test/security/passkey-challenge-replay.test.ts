import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';
import { auditPayloads, authenticatorFor, enrolPasskey, loginOptions, postJson } from '../support/passkeys.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * A captured assertion (a phishing proxy, a log, a compromised network hop) must not open a
 * second session: each challenge is issued for one flow, answered once, and an assertion
 * signs its challenge.
 */
onEachBackend('passkey challenge replay', ({ t }) => {
  async function enrolled(): Promise<{ accountId: string; authenticator: ReturnType<typeof authenticatorFor> }> {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    const authenticator = authenticatorFor(t);
    await enrolPasskey(b, authenticator);
    return { accountId: c.accountId, authenticator };
  }

  test('an assertion that logged in once does not log in again on its flow', async () => {
    const { authenticator } = await enrolled();
    const victim = new Browser(t);
    const { flow, options } = await loginOptions(victim);
    const credential = authenticator.get(options);
    assert.equal((await postJson(victim, `/login/passkey/${flow}`, { method: 'passkey', credential })).statusCode, 200);
    const replayed = await postJson(victim, `/login/passkey/${flow}`, { method: 'passkey', credential });
    assert.equal(replayed.statusCode, 409);
  });

  test('an assertion captured on one flow is refused on another flow (another challenge)', async () => {
    const { accountId, authenticator } = await enrolled();
    const victim = new Browser(t);
    const first = await loginOptions(victim);
    const captured = authenticator.get(first.options);
    const attacker = new Browser(t);
    attacker.ip = '198.51.100.9';
    const second = await loginOptions(attacker);
    const res = await postJson(attacker, `/login/passkey/${second.flow}`, { method: 'passkey', credential: captured });
    assert.equal(res.statusCode, 401);
    assert.ok((await auditPayloads(t, 'method.failed', accountId)).some((p) => p.flowId === second.flow && p.reason === 'invalid'));
    // And the victim's own flow still works: the attacker's failure spent only its own challenge.
    assert.equal((await postJson(victim, `/login/passkey/${first.flow}`, { method: 'passkey', credential: captured })).statusCode, 200);
  });

  test("a flow id and assertion taken from the victim's browser are refused in another browser", async () => {
    const { authenticator } = await enrolled();
    const victim = new Browser(t);
    const { flow, options } = await loginOptions(victim);
    const attacker = new Browser(t);
    await attacker.get('/login');
    const res = await postJson(attacker, `/login/passkey/${flow}`, { method: 'passkey', credential: authenticator.get(options) });
    assert.equal(res.statusCode, 404, 'the flow is bound to the browser that started it, and answers as an unknown one');
  });

  test('an assertion without a CSRF token is refused before anything is checked', async () => {
    const { authenticator } = await enrolled();
    const victim = new Browser(t);
    const { flow, options } = await loginOptions(victim);
    const res = await postJson(victim, `/login/passkey/${flow}`, { method: 'passkey', credential: authenticator.get(options) }, 'not-the-token');
    assert.equal(res.statusCode, 403);
    // The challenge is still there: a forged cross-site request did not spend it.
    assert.equal((await postJson(victim, `/login/passkey/${flow}`, { method: 'passkey', credential: authenticator.get(options) })).statusCode, 200);
  });
});
