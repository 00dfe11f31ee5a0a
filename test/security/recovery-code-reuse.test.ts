import { test } from 'node:test';
import assert from 'node:assert/strict';
import { removeAuthenticator } from '../../src/auth/authenticators.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { csrfTokenIn, form } from '../support/app.ts';
import { Browser, submitPassword } from '../support/login.ts';
import { sessionsOf } from '../support/rules-db.ts';
import { onEachBackend } from '../support/suites.ts';
import { atTotpStep, citizenWithApp, wrongAppCode } from '../support/totp.ts';

/**
 * Recovery codes are one-time secrets: a code written on a sheet someone photographed, or
 * seen once, logs in at most once; it is worth nothing on another account; and a set dies
 * with the app it was issued with (removing an app someone else added kills their codes).
 */
onEachBackend('recovery code reuse', ({ t, tdb }) => {
  const eidas2 = async (accountId: string): Promise<number> => (await sessionsOf(tdb.db, accountId)).filter((s) => s.level === 'eidas2').length;

  test('a used code is refused in a later flow', async () => {
    const { c, codes } = await citizenWithApp(t);
    const code = codes[3] ?? '';
    const b = new Browser(t);
    const flow = await atTotpStep(b, c, 'recovery-code');
    assert.equal((await b.post(`${flow}/recovery-code`, { method: 'recovery-code', code })).statusCode, 303);
    const thief = new Browser(t);
    const other = await atTotpStep(thief, c, 'recovery-code');
    const res = await thief.post(`${other}/recovery-code`, { method: 'recovery-code', code });
    assert.equal(res.statusCode, 400);
    assert.equal(await eidas2(c.accountId), 1);
  });

  test('one code sent to three flows at once: one session', async () => {
    const { c, codes } = await citizenWithApp(t);
    const code = codes[0] ?? '';
    const browsers = [new Browser(t), new Browser(t), new Browser(t)];
    const flows = await Promise.all(browsers.map((b) => atTotpStep(b, c, 'recovery-code')));
    const results = await Promise.all(
      browsers.map((b, i) => {
        const body = form({ _csrf: csrfTokenIn(b.lastPage), method: 'recovery-code', code });
        return t.app.inject({ method: 'POST', url: `${flows[i]}/recovery-code`, cookies: b.jar.cookies(), headers: body.headers, payload: body.payload, remoteAddress: b.ip });
      }),
    );
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [303, 400, 400]);
    assert.equal(await eidas2(c.accountId), 1);
  });

  test("another account's code is refused", async () => {
    const alice = await citizenWithApp(t);
    const bob = await citizenWithApp(t);
    const b = new Browser(t);
    const flow = await atTotpStep(b, bob.c, 'recovery-code');
    assert.equal((await b.post(`${flow}/recovery-code`, { method: 'recovery-code', code: alice.codes[0] ?? '' })).statusCode, 400);
    assert.equal(await eidas2(bob.c.accountId), 0);
  });

  test('the codes stop working when their app is removed', async () => {
    const { c, codes } = await citizenWithApp(t);
    const appId = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ id: string }>(`SELECT id FROM authenticators WHERE account_id = $1`, [c.accountId])).rows[0]?.id);
    assert.ok(appId);
    await citizen(t.deps.db, c.accountId, (tx) => removeAuthenticator(tx, { ...t.deps, policy: t.deps.config.auth }, { accountId: c.accountId, id: appId, locale: 'fr', client: { browser: null, os: null } }));
    const b = new Browser(t);
    const flow = await submitPassword(b, c);
    const page = await b.get(`${flow}/recovery-code`);
    assert.equal(page.statusCode, 303, 'no app: the page is not offered');
    assert.equal(await eidas2(c.accountId), 0);
    assert.ok(codes.length === 10);
  });

  test('wrong app codes and wrong recovery codes share the flow’s 5 attempts', async () => {
    const { c, secret, codes } = await citizenWithApp(t);
    const b = new Browser(t);
    const flow = await atTotpStep(b, c);
    for (let i = 0; i < 3; i++) assert.equal((await b.post(`${flow}/totp`, { method: 'totp', code: wrongAppCode(secret, t.clock, i) })).statusCode, 400);
    const page = (await b.get(`${flow}/recovery-code`)).body;
    const fourth = await b.post(`${flow}/recovery-code`, { method: 'recovery-code', code: 'AAAAA-AAAAA' });
    assert.equal(fourth.statusCode, 400);
    assert.match(fourth.body, /Il vous reste 1 essai\(s\)/);
    assert.equal((await b.post(`${flow}/recovery-code`, { method: 'recovery-code', code: 'BBBBB-BBBBB' })).statusCode, 410);
    assert.equal((await b.post(`${flow}/recovery-code`, { method: 'recovery-code', code: codes[0] ?? '' }, page)).statusCode, 410, 'the flow is over');
    assert.equal(await eidas2(c.accountId), 0);
  });
});
