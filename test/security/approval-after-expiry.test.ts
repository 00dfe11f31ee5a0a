import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atApprovalStep, requestApproval } from '../support/device.ts';
import { onEachBackend } from '../support/suites.ts';

/** A request lives approvalTtl (2 minutes): a late tap, or a request found later, approves nothing. */
onEachBackend('approval after expiry', ({ t }) => {
  test('an answer after two minutes is refused, and the computer is told', async () => {
    const { c, device, computer, wait, approvalId, number } = await atApprovalStep(t);
    assert.equal((await device.poll()).length, 1);

    t.clock.advance(t.deps.config.auth.approvalTtl * 1000);
    assert.deepEqual(await device.poll(), [], 'an expired request is no longer shown');
    const late = await device.decide(approvalId, 'approve', String(number));
    assert.equal(late.json.result, 'expired');
    // Once expired, always: a second try is not even looked at.
    assert.equal((await device.decide(approvalId, 'approve', String(number))).json.result, 'gone');

    assert.equal((await computer.get(`${wait}/status`)).json().status, 'expired');
    const res = await computer.post(wait, { method: 'device-approval' });
    assert.equal(res.statusCode, 410);
    assert.match(res.body, /expiré/);
    assert.equal(computer.jar.get('__Host-sesame-session'), undefined, 'no session');

    // The flow itself is alive: the citizen may ask again.
    const again = await requestApproval(computer, c, wait.slice(0, wait.indexOf('/device')));
    assert.notEqual(again.approvalId, approvalId);
  });

  test('one second before the end it still counts', async () => {
    const { device, computer, wait, approvalId, number } = await atApprovalStep(t);
    t.clock.advance((t.deps.config.auth.approvalTtl - 1) * 1000);
    assert.equal((await device.decide(approvalId, 'approve', String(number))).json.result, 'approved');
    assert.equal((await computer.post(wait, { method: 'device-approval' })).headers.location, '/account');
  });
});
