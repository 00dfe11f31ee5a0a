import { nirIndex } from '../../../accounts/accounts.ts';
import { setPasswordHash } from '../../../accounts/credentials.ts';
import { audit } from '../../../audit/log.ts';
import { queuePasswordChangedMail } from '../../../mail/password-changed.ts';
import { removeCoolingOff } from '../../authenticators.ts';
import { endOtherSessions } from '../../sessions.ts';
import { clearAccountThrottle } from '../../throttle.ts';
import type { Finish } from '../code-flow/spec.ts';
import { endAccountFlows, endFlow } from '../flow.ts';

/**
 * Sets the new password: every session of the account ends (whoever had the old password is
 * out), authenticators still cooling off are removed (whoever had it may have added one), the
 * login lock after repeated failures is lifted, the owner is told by mail.
 */
export const finishRecovery: Finish = async (tx, deps, { flow, accountId, hash, nir, locale, client, requestId }) => {
  const { clock, ring } = deps;
  // Locked with the row: an account locked or closed since the code was sent keeps its password.
  const { rows } = await tx.query<{ status: string }>(`SELECT status FROM accounts WHERE id = $1 FOR UPDATE`, [accountId]);
  if (rows[0]?.status !== 'active') {
    await endFlow(tx, clock, flow.id, 'failed');
    return { ok: false, problem: 'account-changed' };
  }
  await setPasswordHash(tx, clock, accountId, hash);
  const sessionsEnded = await endOtherSessions(tx, clock, accountId, null, 'recovery', requestId);
  await clearAccountThrottle(tx, nirIndex(ring, nir), ring.macKey);
  await endFlow(tx, clock, flow.id, 'done');
  // A login or another recovery started with the old password (or by whoever had it) ends too.
  await endAccountFlows(tx, clock, accountId);
  await removeCoolingOff(tx, deps, { accountId, locale, client, requestId });
  await queuePasswordChangedMail(tx, deps, { accountId, locale, at: clock.now(), client, via: 'recovery' });
  await audit(tx, clock, { type: 'password.changed', accountId, requestId, payload: { via: 'recovery', sessionsEnded } });
  return { ok: true };
};
