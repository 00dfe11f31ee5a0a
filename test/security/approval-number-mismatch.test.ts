import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { SUSPENSION_AFTER_REFUSAL_SECONDS, drawNumbers } from '../../src/auth/methods/device-approval.ts';
import { askApproval, atApprovalStep, requestApproval, wrongNumber } from '../support/device.ts';
import { Browser, mailsFor, submitPassword } from '../support/login.ts';
import { onEachBackend } from '../support/suites.ts';
import type { TestApp } from '../support/app.ts';

/**
 * Number matching against the reflex tap: the phone offers three numbers, only the one shown
 * on the screen that asked approves. A wrong one is treated as a denial (whoever asked knows
 * the password; the citizen may have tapped by reflex on a request they did not make): the
 * login ends, the owner is told, and the account's approvals are suspended for an hour, so
 * that a thief cannot keep asking until one guess in three lands.
 */
const auditOf = (t: TestApp, accountId: string, types: string[]) =>
  system(t.deps.db, 'test', (tx) =>
    tx.query<{ type: string; payload: Record<string, unknown> }>(`SELECT type, payload FROM audit_log WHERE account_id = $1 AND type = ANY($2) ORDER BY seq`, [accountId, types]),
  );

onEachBackend('approval number mismatch', ({ t }) => {
  test('a wrong number ends the login like a denial: no second guess, the owner is mailed', async () => {
    const { c, device, computer, wait, approvalId, number } = await atApprovalStep(t);
    const wrong = await wrongNumber(device, approvalId, number);

    assert.equal((await device.decide(approvalId, 'approve', String(wrong))).json.result, 'mismatch');
    assert.equal((await device.decide(approvalId, 'approve', String(number))).json.result, 'gone');
    assert.deepEqual(await device.poll(), []);

    assert.equal((await computer.get(`${wait}/status`)).json().status, 'mismatch');
    const res = await computer.post(wait, { method: 'device-approval' });
    assert.equal(res.statusCode, 410);
    assert.match(res.body, /Mauvais nombre/);
    assert.match(res.body, /href="\/login"/, 'the login starts again from the beginning');
    assert.equal(computer.jar.get('__Host-sesame-session'), undefined, 'no session');
    const flowId = wait.split('/')[2];
    const flow = await system(t.deps.db, 'test', (tx) => tx.query<{ ended_at: Date | null; state: string }>(`SELECT ended_at, state FROM auth_flows WHERE id = $1`, [flowId]));
    assert.ok(flow.rows[0]?.ended_at, 'the flow is over: no other method can finish it');
    assert.equal(flow.rows[0]?.state, 'mismatch');
    assert.equal((await computer.get(`${wait.slice(0, wait.indexOf('/device'))}/device`)).statusCode, 410, 'nor ask again');

    const mail = (await mailsFor(t, c.accountId)).find((m) => m.template === 'approval-denied');
    assert.ok(mail, 'an alert mail was queued');
    assert.equal(mail.params.reason, 'mismatch');
    const audit = await auditOf(t, c.accountId, ['approval.decided', 'method.failed']);
    assert.deepEqual(audit.rows.map((r) => [r.type, r.payload.decision ?? r.payload.reason]), [['approval.decided', 'mismatch'], ['method.failed', 'number-mismatch']]);
  });

  test('after a wrong number the phone can end every session and open flow', async () => {
    const { c, device, approvalId, number } = await atApprovalStep(t);
    const thief = new Browser(t);
    const thiefFlow = await submitPassword(thief, c);
    await device.decide(approvalId, 'approve', String(await wrongNumber(device, approvalId, number)));
    const end = await device.endSessions(approvalId);
    assert.equal(end.json.result, 'ended');
    const open = await system(t.deps.db, 'test', (tx) => tx.query(`SELECT 1 FROM auth_flows WHERE account_id = $1 AND ended_at IS NULL`, [c.accountId]));
    assert.equal(open.rows.length, 0);
    assert.equal((await thief.post(`${thiefFlow}/send`, { method: 'email-code' })).statusCode, 410, 'the thief’s flow is over');
  });

  test('guessing again: after a wrong number, approvals are suspended for an hour', async () => {
    const { c, device, computer, approvalId, number } = await atApprovalStep(t);
    await device.decide(approvalId, 'approve', String(await wrongNumber(device, approvalId, number)));

    // The thief starts over with the password, in this browser or another: refused.
    const { res: refused } = await askApproval(new Browser(t), c);
    assert.equal(refused.statusCode, 429);
    assert.match(refused.body, /suspendue jusqu’à/);
    assert.deepEqual(await device.poll(), [], 'nothing reaches the phone');
    const audit = await auditOf(t, c.accountId, ['approval.refused']);
    assert.deepEqual(audit.rows.map((r) => r.payload.reason), ['rate-limit']);

    // Still suspended one second before the hour; allowed again at the hour.
    t.clock.advance((SUSPENSION_AFTER_REFUSAL_SECONDS - 1) * 1000);
    assert.equal((await askApproval(computer, c)).res.statusCode, 429);
    t.clock.advance(1000);
    assert.ok((await requestApproval(computer, c)).approvalId);
  });

  test('a number that was not offered, or none, does not approve', async () => {
    const first = await atApprovalStep(t);
    assert.equal((await first.device.decide(first.approvalId, 'approve', '')).json.result, 'mismatch');
    const second = await atApprovalStep(t);
    const [offered] = await second.device.poll();
    const notOffered = [...Array(90).keys()].map((i) => i + 10).find((n) => !offered?.numbers.includes(n));
    assert.equal((await second.device.decide(second.approvalId, 'approve', String(notOffered))).json.result, 'mismatch');
  });

  test('the numbers are three, distinct, from 10 to 99, and the expected one is any of them', () => {
    const positions = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const { numbers, expected } = drawNumbers();
      assert.equal(new Set(numbers).size, 3);
      assert.ok(numbers.every((n) => Number.isInteger(n) && n >= 10 && n <= 99));
      positions.add(numbers.indexOf(expected));
    }
    assert.deepEqual([...positions].sort(), [0, 1, 2]);
  });
});
