import { nirIndex } from '../../../accounts/accounts.ts';
import { setPasswordHash } from '../../../accounts/credentials.ts';
import { audit } from '../../../audit/log.ts';
import { queuePasswordChangedMail } from '../../../mail/password-changed.ts';
import { clearAccountThrottle } from '../../throttle.ts';
import type { Finish } from '../code-flow/spec.ts';
import { endFlow } from '../flow.ts';

/** Sets the first password and activates the account. */
export const finishActivation: Finish = async (tx, deps, { flow, accountId, hash, nir, locale, client, requestId }) => {
  const { clock, ring } = deps;
  const now = clock.now();
  // Guarded: an account activated, locked or closed since the code was sent keeps its state and password.
  const activated = await tx.query(`UPDATE accounts SET status = 'active', updated_at = $2 WHERE id = $1 AND status = 'pending_activation' RETURNING id`, [accountId, now]);
  if (activated.rows.length !== 1) {
    await endFlow(tx, clock, flow.id, 'failed');
    return { ok: false, problem: 'account-changed' };
  }
  await setPasswordHash(tx, clock, accountId, hash);
  // Failures counted against this NIR before it had a password were not its owner's.
  await clearAccountThrottle(tx, nirIndex(ring, nir), ring.macKey);
  await endFlow(tx, clock, flow.id, 'done');
  await queuePasswordChangedMail(tx, deps, { accountId, locale, at: now, client, via: 'activation' });
  await audit(tx, clock, { type: 'account.activated', accountId, requestId, payload: { flowId: flow.id } });
  await audit(tx, clock, { type: 'password.changed', accountId, requestId, payload: { via: 'activation', sessionsEnded: 0 } });
  return { ok: true };
};
