import { accountCipher } from '../../../accounts/account-keys.ts';
import { nirIndex } from '../../../accounts/accounts.ts';
import { setPasswordHash } from '../../../accounts/credentials.ts';
import { audit } from '../../../audit/log.ts';
import { system, type Tx } from '../../../db/contexts.ts';
import type { KeyRing } from '../../../crypto/keyring.ts';
import { queueMail } from '../../../mail/outbox.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { endOtherSessions } from '../../sessions.ts';
import { clearAccountThrottle } from '../../throttle.ts';
import { endAccountFlows, endFlow, loadFlow, type Flow, type FlowProblem } from '../flow.ts';

/** 'wrong-state': the flow is alive but not at this step (the code is not verified yet). */
export type PasswordStepProblem = FlowProblem | 'wrong-state' | 'not-active';

async function nirOf(tx: Tx, ring: KeyRing, accountId: string): Promise<string> {
  const { rows } = await tx.query<{ nir: Uint8Array }>(`SELECT nir FROM accounts WHERE id = $1`, [accountId]);
  const blob = rows[0]?.nir;
  const cipher = blob ? await accountCipher(tx, ring, accountId) : null;
  if (!blob || !cipher) throw new Error('recovery flow for an account that cannot be read');
  return cipher.decrypt('nir', Buffer.from(blob));
}

/** A flow that may take the password; only the code opens this state, so it has an account. */
async function choosing(tx: Tx, deps: AuthDeps, flowId: string, csrfBinding: string): Promise<{ ok: true; flow: Flow; accountId: string } | { ok: false; problem: PasswordStepProblem }> {
  const loaded = await loadFlow(tx, deps.clock, flowId, { kind: 'recovery', csrfBinding });
  if (!loaded.ok) return loaded;
  const { flow } = loaded;
  if (flow.state !== 'choose-password') return { ok: false, problem: 'wrong-state' };
  if (!flow.accountId) throw new Error('recovery flow past the code without an account');
  return { ok: true, flow, accountId: flow.accountId };
}

/** The account's NIR, which the new password must not contain. */
export async function passwordContext(deps: AuthDeps, flowId: string, csrfBinding: string): Promise<{ ok: true; nir: string } | { ok: false; problem: PasswordStepProblem }> {
  return system(deps.db, 'recovery', async (tx) => {
    const at = await choosing(tx, deps, flowId, csrfBinding);
    return at.ok ? { ok: true, nir: await nirOf(tx, deps.ring, at.accountId) } : at;
  });
}

/**
 * Sets the new password, all or nothing: every session of the account ends (whoever had
 * the old password is out), the login lock after repeated failures is lifted, the owner is
 * told by mail. Hashed before the transaction so that no lock is held during Argon2id; the
 * flow is then locked again and must still be waiting for its password.
 */
export async function completeRecovery(
  deps: AuthDeps,
  input: { flowId: string; csrfBinding: string; password: string; nir: string; locale: Locale; client: ClientInfo; requestId: string },
): Promise<{ ok: true } | { ok: false; problem: PasswordStepProblem }> {
  const { clock, ring } = deps;
  const hash = await deps.verifier.hasher.hash(input.password);
  return system(deps.db, 'recovery', async (tx) => {
    const at = await choosing(tx, deps, input.flowId, input.csrfBinding);
    if (!at.ok) return at;
    const { flow, accountId } = at;
    // Locked with the row: an account locked or closed since the code was sent keeps its password.
    const { rows } = await tx.query<{ status: string }>(`SELECT status FROM accounts WHERE id = $1 FOR UPDATE`, [accountId]);
    if (rows[0]?.status !== 'active') {
      await endFlow(tx, clock, flow.id, 'failed');
      return { ok: false, problem: 'not-active' };
    }
    await setPasswordHash(tx, clock, accountId, hash);
    const sessionsEnded = await endOtherSessions(tx, clock, accountId, null, 'recovery', input.requestId);
    await clearAccountThrottle(tx, nirIndex(ring, input.nir));
    await endFlow(tx, clock, flow.id, 'done');
    // A login or another recovery started with the old password (or by whoever had it) ends too.
    await endAccountFlows(tx, clock, accountId);
    await queueMail(tx, deps, {
      accountId,
      template: 'password-changed',
      locale: input.locale,
      params: { at: clock.now().toISOString(), browser: input.client.browser, os: input.client.os, via: 'recovery' },
    });
    await audit(tx, clock, { type: 'password.changed', accountId, requestId: input.requestId, payload: { via: 'recovery', sessionsEnded } });
    return { ok: true };
  });
}
