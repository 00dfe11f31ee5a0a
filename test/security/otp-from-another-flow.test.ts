import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createFlow } from '../../src/auth/flows/flow.ts';
import { system } from '../../src/db/contexts.ts';
import { CSRF_COOKIE } from '../../src/web/csrf.ts';
import { csrfTokenIn } from '../support/app.ts';
import { forgedPost } from '../support/attack-requests.ts';
import { Browser, citizenWithPassword, lastCode, submitPassword, type Citizen } from '../support/login.ts';
import { flowRow, sessionsOf } from '../support/rules-db.ts';
import { useApp } from '../support/suites.ts';

/**
 * A code used outside the flow that asked for it: the code of one login typed into another
 * login of the same account, or a flow's URL (leaked through history, a screenshot, a
 * Referer) driven from another browser. The code is bound to its flow and the flow to the
 * browser that started it: the other browser gets "not found" and spends nothing of the flow.
 */
const { t, tdb } = useApp();

/** The browser's flow at the code step, with a code sent; returns the code. */
async function sendCode(b: Browser, c: Citizen, flow: string): Promise<string> {
  t.clock.advance(1000);
  assert.equal((await b.post(`${flow}/send`, { method: 'email-code' }, (await b.get(flow)).body)).statusCode, 303);
  await b.get(flow);
  return lastCode(t, c.accountId);
}

const idOf = (flow: string): string => flow.slice('/login/'.length);

describe('a code from another flow', () => {
  test('flow A’s code typed into flow B of the same account (same browser) is wrong; A’s code still works in A', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    const a = await submitPassword(b, c);
    const codeA = await sendCode(b, c, a);
    const flowB = await submitPassword(b, c);
    const codeB = await sendCode(b, c, flowB);
    if (codeA !== codeB) {
      const crossed = await b.post(flowB, { method: 'email-code', code: codeA });
      assert.equal(crossed.statusCode, 400);
      assert.match(crossed.body, /Le code est incorrect/);
      assert.equal((await flowRow(tdb.db, idOf(flowB)))?.code_failures, 1);
    }
    assert.equal((await flowRow(tdb.db, idOf(a)))?.code_failures, 0, 'A spent nothing');
    await b.get(a);
    assert.equal((await b.post(a, { method: 'email-code', code: codeA })).statusCode, 303);
  });

  test('flow A’s code typed into flow B of the same account started in another browser is wrong too', async () => {
    const c = await citizenWithPassword(t);
    const one = new Browser(t);
    const two = new Browser(t);
    const a = await submitPassword(one, c);
    const codeA = await sendCode(one, c, a);
    const flowB = await submitPassword(two, c);
    t.clock.advance(1000);
    await two.post(`${flowB}/send`, { method: 'email-code' });
    await two.get(flowB);
    const codeB = await lastCode(t, c.accountId);
    if (codeA !== codeB) assert.equal((await two.post(flowB, { method: 'email-code', code: codeA })).statusCode, 400);
    assert.equal((await sessionsOf(tdb.db, c.accountId)).length, 0);
  });
});

describe('a flow driven from another browser', () => {
  test('another browser (its own CSRF cookie and valid token) gets 404 on every step of flow A, spends no attempt and sends no code', async () => {
    const c = await citizenWithPassword(t);
    const victim = new Browser(t);
    const a = await submitPassword(victim, c);
    const code = await sendCode(victim, c, a);
    const before = await flowRow(tdb.db, idOf(a));

    const attacker = new Browser(t);
    attacker.ip = '198.51.100.99';
    await attacker.get('/login');
    assert.notEqual(attacker.jar.get(CSRF_COOKIE), victim.jar.get(CSRF_COOKIE));
    assert.equal((await attacker.get(a)).statusCode, 404);
    t.clock.advance(60_000);
    const send = await attacker.post(`${a}/send`, { method: 'email-code' }, (await attacker.get('/login')).body);
    assert.equal(send.statusCode, 404);
    for (const guess of [code, '000000', code]) {
      const res = await attacker.post(a, { method: 'email-code', code: guess }, (await attacker.get('/login')).body);
      assert.equal(res.statusCode, 404, 'not found, whether the code is right or not');
      assert.ok(!String(res.headers['set-cookie'] ?? '').includes('__Host-sesame-session='));
    }
    assert.equal(attacker.jar.get('__Host-sesame-session'), undefined);
    assert.deepEqual(await flowRow(tdb.db, idOf(a)), before, 'flow A is untouched: no attempt spent, no code sent, not ended');
    assert.equal((await sessionsOf(tdb.db, c.accountId)).length, 0);

    assert.equal((await victim.post(a, { method: 'email-code', code }, (await victim.get(a)).body)).statusCode, 303, 'the citizen finishes the login');
  });

  test('the victim’s CSRF token stolen from a page does not help without the victim’s cookie (403)', async () => {
    const c = await citizenWithPassword(t);
    const victim = new Browser(t);
    const a = await submitPassword(victim, c);
    const code = await sendCode(victim, c, a);
    const attacker = new Browser(t);
    await attacker.get('/login');
    const res = await forgedPost(t.app, a, { jar: attacker.jar, token: csrfTokenIn(victim.lastPage), fields: { method: 'email-code', code } });
    assert.equal(res.statusCode, 403);
    assert.equal((await flowRow(tdb.db, idOf(a)))?.code_failures, 0);
  });

  test('an activation or recovery flow id of the same browser is “not found” on the login pages', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await b.get('/login');
    const secret = b.jar.get(CSRF_COOKIE);
    assert.ok(secret);
    const binding = t.app.csrfSigner.binding(secret);
    for (const kind of ['activation', 'recovery'] as const) {
      const flow = await system(tdb.db, 'test', (tx) => createFlow(tx, t.clock, { kind, state: 'code', accountId: c.accountId, csrfBinding: binding, ttlSeconds: 1800 }));
      assert.equal((await b.get(`/login/${flow.id}`)).statusCode, 404, kind);
      assert.equal((await b.post(`/login/${flow.id}/send`, { method: 'email-code' }, (await b.get('/login')).body)).statusCode, 404, kind);
      assert.equal((await b.post(`/login/${flow.id}`, { method: 'email-code', code: '123456' }, (await b.get('/login')).body)).statusCode, 404, kind);
      assert.deepEqual({ ...(await flowRow(tdb.db, flow.id)) }, { state: 'code', code_failures: 0, codes_sent: 0, ended_at: null, account_id: c.accountId });
    }
  });
});
