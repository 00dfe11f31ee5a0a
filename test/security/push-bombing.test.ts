import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { SUSPENSION_AFTER_REFUSAL_SECONDS } from '../../src/auth/methods/device-approval.ts';
import { askApproval, atApprovalStep, citizenWithDevice, requestApproval } from '../support/device.ts';
import { Browser, submitPassword } from '../support/login.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * Push bombing: someone with the password sends request after request until the owner taps
 * one to make it stop. At most approvalsPerWindow (3) requests per account per approvalWindow
 * (10 minutes), whatever the flows or browsers they come from.
 */
onEachBackend('push bombing', ({ t }) => {
  test('the fourth request in ten minutes is refused, and allowed again after the window', async () => {
    const { c } = await citizenWithDevice(t);
    const attacker = new Browser(t);
    const flow = await submitPassword(attacker, c);
    for (let i = 0; i < 3; i++) {
      await requestApproval(attacker, c, flow);
      t.clock.advance(60_000);
    }
    await attacker.get(`${flow}/device`);
    const fourth = await attacker.post(`${flow}/device`, { method: 'device-approval' });
    assert.equal(fourth.statusCode, 429);
    assert.match(fourth.body, /Trop de demandes/);

    // From another flow (another browser) as well: the cap is the account's.
    const other = new Browser(t);
    const otherFlow = await submitPassword(other, c);
    await other.get(`${otherFlow}/device`);
    assert.equal((await other.post(`${otherFlow}/device`, { method: 'device-approval' })).statusCode, 429);

    const refused = await system(t.deps.db, 'test', (tx) =>
      tx.query<{ payload: unknown }>(`SELECT payload FROM audit_log WHERE account_id = $1 AND type = 'approval.refused'`, [c.accountId]),
    );
    assert.equal(refused.rows.length, 2);

    // The window slides from the first request: 10 minutes after it, one more is allowed.
    t.clock.advance((t.deps.config.auth.approvalWindow - 3 * 60) * 1000 + 1000);
    const again = await requestApproval(other, c, otherFlow);
    assert.ok(again.approvalId);
  });

  test('only the latest request of a flow is shown on the phone', async () => {
    const { c, device } = await citizenWithDevice(t);
    const b = new Browser(t);
    const first = await requestApproval(b, c);
    const second = await requestApproval(b, c, first.flow);
    const pending = await device.poll();
    assert.deepEqual(pending.map((p) => p.id), [second.approvalId]);
    assert.equal((await device.decide(first.approvalId, 'approve', String(first.number))).json.result, 'gone');
  });

  test('once the owner denied a request, no other reaches the phone for an hour', async () => {
    const { c, device, approvalId } = await atApprovalStep(t);
    assert.equal((await device.decide(approvalId, 'deny')).json.result, 'denied');
    // Well within the cap of requests, yet refused: the owner said no.
    const attacker = new Browser(t);
    const { res: refused } = await askApproval(attacker, c);
    assert.equal(refused.statusCode, 429);
    assert.match(refused.body, /suspendue jusqu’à/);
    assert.deepEqual(await device.poll(), []);
    const audit = await system(t.deps.db, 'test', (tx) =>
      tx.query<{ payload: { reason: string } }>(`SELECT payload FROM audit_log WHERE account_id = $1 AND type = 'approval.refused'`, [c.accountId]),
    );
    assert.deepEqual(audit.rows.map((r) => r.payload.reason), ['rate-limit']);
    t.clock.advance(SUSPENSION_AFTER_REFUSAL_SECONDS * 1000);
    assert.ok((await requestApproval(attacker, c)).approvalId, 'an hour later (a new login: that one expired), the phone is asked again');
  });

  test('parallel requests cannot together exceed the cap', async () => {
    const { c } = await citizenWithDevice(t);
    const browsers: { b: Browser; flow: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const b = new Browser(t);
      const flow = await submitPassword(b, c);
      await b.get(`${flow}/device`);
      browsers.push({ b, flow });
    }
    const results = await Promise.all(browsers.map(({ b, flow }) => b.post(`${flow}/device`, { method: 'device-approval' })));
    assert.equal(results.filter((r) => r.statusCode === 303).length, 3);
    assert.equal(results.filter((r) => r.statusCode === 429).length, 3);
  });
});
