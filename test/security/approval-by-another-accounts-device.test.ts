import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { citizenWithDevice, requestApproval } from '../support/device.ts';
import { Browser } from '../support/login.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * An attacker with the victim's password asks for an approval, then answers it from their own
 * registered phone (they can see the number on their screen). The request belongs to the
 * victim's device: no other device sees it, and no other device's answer counts.
 */
onEachBackend('approval by another account’s device', ({ t }) => {
  test('another account’s device neither sees nor decides the request', async () => {
    const victim = await citizenWithDevice(t);
    const attacker = await citizenWithDevice(t);
    const computer = new Browser(t);
    const { wait, approvalId, number } = await requestApproval(computer, victim.c);

    assert.deepEqual(await attacker.device.poll(), [], 'the attacker’s phone sees nothing');
    const answer = await attacker.device.decide(approvalId, 'approve', String(number));
    assert.equal(answer.status, 200);
    assert.equal(answer.json.result, 'gone', 'nothing tells whether the request exists');

    assert.equal((await computer.get(`${wait}/status`)).json().status, 'pending');
    const res = await computer.post(wait, { method: 'device-approval' });
    assert.equal(res.statusCode, 200, 'still waiting');
    assert.equal(computer.jar.get('__Host-sesame-session'), undefined, 'no session');

    // A denial from the attacker's phone does not end the victim's flow either.
    assert.equal((await attacker.device.decide(approvalId, 'deny')).json.result, 'gone');
    assert.equal((await computer.get(`${wait}/status`)).json().status, 'pending');

    const failures = await system(t.deps.db, 'test', (tx) =>
      tx.query(`SELECT 1 FROM audit_log WHERE account_id = $1 AND type = 'method.failed'`, [attacker.c.accountId]),
    );
    assert.equal(failures.rows.length, 2, 'each foreign answer is audited on the attacker’s account');

    // The victim's own phone still approves it.
    assert.equal((await victim.device.decide(approvalId, 'approve', String(number))).json.result, 'approved');
    const done = await computer.post(wait, { method: 'device-approval' });
    assert.equal(done.headers.location, '/account');
  });

  test('a removed device can no longer answer', async () => {
    const { c, device } = await citizenWithDevice(t);
    const computer = new Browser(t);
    const { approvalId, number } = await requestApproval(computer, c);
    await system(t.deps.db, 'test', (tx) => tx.query(`UPDATE authenticators SET removed_at = now() WHERE account_id = $1 AND kind = 'device'`, [c.accountId]));
    const nonce = await device.post('/device/nonce', { device: device.keyId });
    assert.equal(nonce.status, 404);
    device.nonce = 'A'.repeat(43);
    const answer = await device.decide(approvalId, 'approve', String(number));
    assert.equal(answer.status, 401);
    assert.equal(answer.json.error, 'unknown-device');
  });
});
