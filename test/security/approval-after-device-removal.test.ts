import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { decideApproval } from '../../src/auth/methods/device-approval.ts';
import { atApprovalStep } from '../support/device.ts';
import { onEachBackend } from '../support/suites.ts';
import type { TestApp } from '../support/app.ts';

/**
 * A phone is lost or stolen: the citizen removes it from their account. An approval it gave
 * before (not yet taken by the computer) or any it could still give must die with it: a thief
 * who had the phone and the password must not finish a login it approved.
 */
const removeDevices = (t: TestApp, accountId: string) =>
  system(t.deps.db, 'test', (tx) => tx.query(`UPDATE authenticators SET removed_at = $2 WHERE account_id = $1 AND kind = 'device'`, [accountId, t.clock.now()]));

onEachBackend('approval after the device was removed', ({ t }) => {
  test('an approval given before the removal is not taken: no session', async () => {
    const { c, device, computer, wait, approvalId, number } = await atApprovalStep(t);
    assert.equal((await device.decide(approvalId, 'approve', String(number))).json.result, 'approved');
    await removeDevices(t, c.accountId);

    assert.equal((await computer.get(`${wait}/status`)).json().status, 'gone');
    const res = await computer.post(wait, { method: 'device-approval' });
    assert.equal(res.statusCode, 410);
    assert.equal(res.headers.location, undefined);
    assert.equal(computer.jar.get('__Host-sesame-session'), undefined, 'no session');
    const sessions = await system(t.deps.db, 'test', (tx) => tx.query(`SELECT 1 FROM sessions WHERE account_id = $1 AND level = 'eidas2'`, [c.accountId]));
    assert.equal(sessions.rows.length, 0);
    const used = await system(t.deps.db, 'test', (tx) => tx.query<{ used_at: Date | null }>(`SELECT used_at FROM device_approvals WHERE id = $1`, [approvalId]));
    assert.equal(used.rows[0]?.used_at, null, 'never taken');
  });

  test('a decision arriving after the removal (the device authenticated just before) decides nothing', async () => {
    const { c, wait, computer, approvalId, number } = await atApprovalStep(t);
    const { rows } = await system(t.deps.db, 'test', (tx) => tx.query<{ authenticator_id: string }>(`SELECT authenticator_id FROM device_approvals WHERE id = $1`, [approvalId]));
    const authenticatorId = rows[0]?.authenticator_id;
    assert.ok(authenticatorId);
    await removeDevices(t, c.accountId);
    // As the phone's route would call it had authenticateDevice passed before the removal committed.
    const decided = await system(t.deps.db, 'device', (tx) =>
      decideApproval(tx, { ...t.deps, policy: t.deps.config.auth }, { authenticatorId, accountId: c.accountId }, approvalId, { decision: 'approve', number }, { locale: 'fr' }),
    );
    assert.equal(decided, 'gone');
    assert.equal((await computer.get(`${wait}/status`)).json().status, 'gone');
    assert.equal(computer.jar.get('__Host-sesame-session'), undefined, 'no session');
  });
});
