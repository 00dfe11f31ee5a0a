import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csrfTokenIn, form } from '../support/app.ts';
import { Browser } from '../support/login.ts';
import { auditSeq, auditSince, flowRow, sessionsOf } from '../support/rules-db.ts';
import { onEachBackend } from '../support/suites.ts';
import { appCode, atTotpStep, citizenWithApp, wrongAppCode } from '../support/totp.ts';

/**
 * Guessing the 6 digits of an authenticator app once the password is known (phished, reused):
 * 5 wrong codes end the flow, parallel guesses cannot get past the count, and opening flow
 * after flow is capped per account over a day (here lowered to 8 to keep the test short).
 */
onEachBackend('authenticator app code brute force', () => ({ env: { SESAME_CODE_FAILURES_PER_ACCOUNT_PER_DAY: '8' } }), ({ t, tdb }) => {
  test('5 wrong codes end the flow; then even the right code opens nothing; failures are audited without the code', async () => {
    const { c, secret } = await citizenWithApp(t);
    const b = new Browser(t);
    const flow = await atTotpStep(b, c);
    const flowId = flow.slice('/login/'.length);
    const page = b.lastPage;
    const since = await auditSeq(t.deps.db);
    const tried: string[] = [];
    for (let i = 0; i < 4; i++) {
      const code = wrongAppCode(secret, t.clock, i);
      tried.push(code);
      const res = await b.post(`${flow}/totp`, { method: 'totp', code });
      assert.equal(res.statusCode, 400);
      assert.match(res.body, new RegExp(`Il vous reste ${4 - i} essai\\(s\\)`));
    }
    const last = await b.post(`${flow}/totp`, { method: 'totp', code: wrongAppCode(secret, t.clock, 4) });
    assert.equal(last.statusCode, 410, 'the fifth wrong code ends the flow');
    assert.ok((await flowRow(tdb.db, flowId))?.ended_at);
    const right = await b.post(`${flow}/totp`, { method: 'totp', code: appCode(secret, t.clock) }, page);
    assert.equal(right.statusCode, 410);
    assert.equal((await sessionsOf(tdb.db, c.accountId)).filter((s) => s.level === 'eidas2').length, 0);

    const failed = (await auditSince(t.deps.db, since)).filter((e) => e.type === 'method.failed');
    assert.equal(failed.length, 5);
    assert.deepEqual(failed.map((e) => e.payload.reason), ['wrong', 'wrong', 'wrong', 'wrong', 'exhausted']);
    for (const e of failed) {
      assert.equal(e.payload.method, 'totp');
      for (const code of tried) assert.ok(!e.json.includes(code), 'no code in the audit log');
    }
  });

  test('20 guesses sent at once to one flow: at most 5 are compared, none opens a session', async () => {
    const { c, secret } = await citizenWithApp(t);
    const b = new Browser(t);
    const flow = await atTotpStep(b, c);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const body = form({ _csrf: csrfTokenIn(b.lastPage), method: 'totp', code: wrongAppCode(secret, t.clock, i) });
        return t.app.inject({ method: 'POST', url: `${flow}/totp`, cookies: b.jar.cookies(), headers: body.headers, payload: body.payload, remoteAddress: b.ip });
      }),
    );
    assert.equal(results.filter((r) => r.statusCode === 400).length, 4);
    assert.equal(results.filter((r) => r.statusCode === 410).length, 16);
    assert.equal((await flowRow(tdb.db, flow.slice('/login/'.length)))?.code_failures, 5);
    assert.equal((await sessionsOf(tdb.db, c.accountId)).filter((s) => s.level === 'eidas2').length, 0);
  });

  test('flow after flow: past the account’s daily budget of wrong codes, no code is compared, not even the right one', async () => {
    const { c, secret } = await citizenWithApp(t);
    for (let round = 0; round < 2; round++) {
      const b = new Browser(t);
      const flow = await atTotpStep(b, c);
      for (let i = 0; i < 4; i++) assert.equal((await b.post(`${flow}/totp`, { method: 'totp', code: wrongAppCode(secret, t.clock, round * 10 + i) })).statusCode, 400);
    }
    const b = new Browser(t);
    const flow = await atTotpStep(b, c);
    const blocked = await b.post(`${flow}/totp`, { method: 'totp', code: appCode(secret, t.clock) });
    assert.equal(blocked.statusCode, 429);
    assert.match(blocked.body, /Trop de codes incorrects ont été saisis pour ce compte aujourd’hui/);
    assert.equal((await sessionsOf(tdb.db, c.accountId)).filter((s) => s.level === 'eidas2').length, 0);

    // A day later the budget is back.
    t.clock.advance(24 * 3600 * 1000 + 60_000);
    const next = new Browser(t);
    const again = await atTotpStep(next, c);
    assert.equal((await next.post(`${again}/totp`, { method: 'totp', code: appCode(secret, t.clock) })).statusCode, 303);
  });
});
