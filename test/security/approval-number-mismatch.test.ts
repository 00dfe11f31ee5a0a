import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { drawNumbers } from '../../src/auth/methods/device-approval.ts';
import { TestDevice, requestApproval } from '../support/device.ts';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * Number matching against the reflex tap: the phone offers three numbers, only the one shown
 * on the screen that asked approves, and a wrong one ends the request (no second guess).
 */
onEachBackend('approval number mismatch', ({ t }) => {
  test('a wrong number ends the request: the right one afterwards approves nothing', async () => {
    const c = await citizenWithPassword(t);
    const phone = new Browser(t);
    await logIn(phone, c);
    const device = new TestDevice(t);
    await device.register(phone);
    const computer = new Browser(t);
    const { wait, approvalId, number } = await requestApproval(computer, c);
    const [request] = await device.poll();
    const wrong = request?.numbers.find((n) => n !== number);
    assert.ok(wrong);

    assert.equal((await device.decide(approvalId, 'approve', String(wrong))).json.result, 'mismatch');
    assert.equal((await device.decide(approvalId, 'approve', String(number))).json.result, 'gone');
    assert.deepEqual(await device.poll(), []);

    assert.equal((await computer.get(`${wait}/status`)).json().status, 'mismatch');
    const res = await computer.post(wait, { method: 'device-approval' });
    assert.equal(res.statusCode, 410);
    assert.equal(computer.jar.get('__Host-sesame-session'), undefined, 'no session');
    const audit = await system(t.deps.db, 'test', (tx) =>
      tx.query<{ type: string }>(`SELECT type FROM audit_log WHERE account_id = $1 AND type IN ('approval.decided', 'method.failed') ORDER BY seq`, [c.accountId]),
    );
    assert.deepEqual(audit.rows.map((r) => r.type), ['approval.decided', 'method.failed']);
  });

  test('a number that was not offered, or none, does not approve', async () => {
    const c = await citizenWithPassword(t);
    const phone = new Browser(t);
    await logIn(phone, c);
    const device = new TestDevice(t);
    await device.register(phone);
    const computer = new Browser(t);
    const first = await requestApproval(computer, c);
    assert.equal((await device.decide(first.approvalId, 'approve', '')).json.result, 'mismatch');
    const second = await requestApproval(computer, c, first.flow);
    const outside = second.number === 99 ? 98 : 99;
    const [offered] = await device.poll();
    const notOffered = [...Array(90).keys()].map((i) => i + 10).find((n) => !offered?.numbers.includes(n)) ?? outside;
    assert.equal((await device.decide(second.approvalId, 'approve', String(notOffered))).json.result, 'mismatch');
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
