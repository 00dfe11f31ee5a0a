import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csrfTokenIn, form } from '../support/app.ts';
import { atLoginCodeStep, Browser, lastCode, submitPassword } from '../support/login.ts';
import { codeRows, flowRow, sessionsOf } from '../support/rules-db.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * One-time code replay: a code seen once (shoulder surfing, a shared mailbox, a proxy log, a
 * double submission) must not open a session a second time, nor survive a newer code.
 */
onEachBackend('code replay', ({ t, tdb }) => {
  test('a used code, posted again to its flow, is refused and opens no second session', async () => {
    const { c, b, flow, flowId, code } = await atLoginCodeStep(t);
    const codePage = b.lastPage;
    assert.equal((await b.post(flow, { method: 'email-code', code })).statusCode, 303);
    const replay = await b.post(flow, { method: 'email-code', code }, codePage);
    assert.equal(replay.statusCode, 410, 'the flow is over');
    assert.ok(!String(replay.headers['set-cookie'] ?? '').includes('__Host-sesame-session='), 'no session cookie');
    assert.equal((await sessionsOf(tdb.db, c.accountId)).length, 1);
    assert.ok((await codeRows(tdb.db, flowId))[0]?.used_at, 'the code is marked used');
  });

  test('a used code is worthless in a new login flow of the same account (sent a new code or not)', async () => {
    const { c, b, flow, code } = await atLoginCodeStep(t);
    assert.equal((await b.post(flow, { method: 'email-code', code })).statusCode, 303);

    const other = new Browser(t);
    const next = await submitPassword(other, c);
    const noCodeYet = await other.post(next, { method: 'email-code', code });
    assert.equal(noCodeYet.statusCode, 400);
    assert.match(noCodeYet.body, /Le code est incorrect\. Il vous reste 4 essai\(s\)\./);
    t.clock.advance(1000);
    await other.post(`${next}/send`, { method: 'email-code' });
    await other.get(next);
    const fresh = await lastCode(t, c.accountId);
    if (fresh !== code) assert.equal((await other.post(next, { method: 'email-code', code })).statusCode, 400);
    assert.equal((await other.post(next, { method: 'email-code', code: fresh })).statusCode, 303);
    assert.equal((await sessionsOf(tdb.db, c.accountId)).length, 2);
  });

  test('after a resend, the previous code is refused (and costs an attempt); the new one works', async () => {
    const { c, b, flow, flowId, code: first } = await atLoginCodeStep(t);
    t.clock.advance(60_000);
    assert.equal((await b.post(`${flow}/send`, { method: 'email-code' })).statusCode, 303);
    await b.get(flow);
    const second = await lastCode(t, c.accountId);
    if (second !== first) {
      const stale = await b.post(flow, { method: 'email-code', code: first });
      assert.equal(stale.statusCode, 400);
      assert.match(stale.body, /Le code est incorrect\. Il vous reste 4 essai\(s\)\./);
      assert.equal((await flowRow(tdb.db, flowId))?.code_failures, 1);
    }
    const rows = await codeRows(tdb.db, flowId);
    assert.ok(rows[0]?.revoked_at, 'the first code was revoked');
    assert.equal((await b.post(flow, { method: 'email-code', code: second })).statusCode, 303);
  });

  test('the same right submission sent four times at once (double click, replaying proxy): one 303, one session', async () => {
    const { c, b, flow, code } = await atLoginCodeStep(t);
    const body = form({ _csrf: csrfTokenIn(b.lastPage), method: 'email-code', code });
    const submit = () => t.app.inject({ method: 'POST', url: flow, cookies: b.jar.cookies(), headers: body.headers, payload: body.payload, remoteAddress: b.ip });
    const results = await Promise.all([submit(), submit(), submit(), submit()]);
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [303, 410, 410, 410]);
    assert.equal((await sessionsOf(tdb.db, c.accountId)).length, 1);
  });
});
