import { lockPassword, setPasswordHash } from '../../accounts/credentials.ts';
import { audit } from '../../audit/log.ts';
import { endAccountFlows } from '../../auth/flows/flow.ts';
import { endOtherSessions, rotateSessionToken } from '../../auth/sessions.ts';
import { removeCoolingOff } from '../../auth/authenticators.ts';
import { checkSessionPassword } from '../../auth/methods/session-password.ts';
import type { ThrottleVerdict } from '../../auth/throttle.ts';
import type { FastifyRequest } from 'fastify';
import { system, type Tx } from '../../db/contexts.ts';
import { citizenRequest } from '../../isolation/citizen-request.ts';
import { queuePasswordChangedMail } from '../../mail/password-changed.ts';
import type { MailLocale } from '../../mail/templates/types.ts';
import type { ClientInfo } from '../../web/client.ts';
import type { AccountDeps } from '../account-deps.ts';
import { sessionStillLive } from './sessions-list.ts';

/** The new password as the form gave it, checked against the policy with what is known of the account. */
export type NewPasswordCheck = { ok: true; password: string } | { ok: false; errors: { password?: string; confirm?: string } };

export type ChangePasswordResult =
  /** `token`: the session's new cookie value (the one the browser had is dead). */
  | { ok: true; sessionsEnded: number; token: string | null }
  | { ok: false; reason: 'wrong-current' }
  | { ok: false; reason: 'throttled'; verdict: Exclude<ThrottleVerdict, { ok: true }> }
  | { ok: false; reason: 'invalid-new'; errors: { password?: string; confirm?: string } }
  | { ok: false; reason: 'same-as-current' }
  /** The session or the account went away while the request ran. */
  | { ok: false; reason: 'session-ended' };

export interface ChangePasswordInput {
  accountId: string;
  /** The session asking: it stays, every other one of the account ends. */
  sessionId: string;
  /** NFC-normalised, as typed. */
  currentPassword: string;
  /** Reads and checks the new password once the current one is known to be right. */
  readNewPassword: (context: { nir: string }) => NewPasswordCheck;
  client: ClientInfo;
  locale: MailLocale;
  requestId: string;
  /** The browser carries the account's mark (device cookie): its guesses use its own counter, as at login. */
  knownBrowser: boolean;
  /** The request whose session asks: the change runs through citizenRequest (identity tripwire). */
  request: FastifyRequest;
}

/**
 * Change of password from the security page, by someone holding a live session: the session
 * alone is not enough (a stolen cookie must not let anyone lock the owner out), the current
 * password is required and its guesses count against the same throttle as the login's.
 *
 * Everything about the account runs in the citizen context; the throttle bookkeeping, the
 * ending of pending flows and the new session token, whose tables no citizen may write, run
 * in a system context. Hashes are computed outside any transaction, and a throttled attempt
 * computes none. On success the other sessions end (one of them may be the thief's) and the
 * owner is told by mail, in the same transaction.
 */
export async function changePassword(deps: AccountDeps, input: ChangePasswordInput): Promise<ChangePasswordResult> {
  const { db, clock, verifier } = deps;
  const { accountId } = input;

  const known = await checkSessionPassword(deps, { ...input, password: input.currentPassword, step: 'password-change' });
  if (!known.ok) {
    if (known.reason === 'wrong') return { ok: false, reason: 'wrong-current' };
    return known;
  }

  const next = input.readNewPassword({ nir: known.nir });
  if (!next.ok) return { ok: false, reason: 'invalid-new', errors: next.errors };
  if (next.password === input.currentPassword) return { ok: false, reason: 'same-as-current' };
  const hash = await verifier.hasher.hash(next.password);

  // Flows and token hashes are out of the citizen's reach, so this part runs in a system
  // context, and first: if the change below then fails, pending logins were ended and the
  // browser lost its session, both on the safe side; the reverse order could leave a copied
  // cookie alive after the password changed.
  const endPendingFlows = async (tx: Tx): Promise<void> => {
    const ended = await endAccountFlows(tx, clock, accountId);
    if (ended > 0) await audit(tx, clock, { type: 'flows.ended', accountId, requestId: input.requestId, payload: { count: ended, reason: 'password-changed' } });
  };
  const token = await system(db, 'password-change', async (tx) => {
    await endPendingFlows(tx);
    return rotateSessionToken(tx, input.sessionId);
  });
  const changed = await citizenRequest(deps, input.request, async (tx): Promise<ChangePasswordResult> => {
    // The row locked first: a recovery (or a change from another session) that committed since
    // the current password was checked is seen by the next statements, and has ended this
    // session; one that commits later waits and replaces this password, never the reverse.
    const current = await lockPassword(tx, accountId);
    if (current?.secret !== known.stored) {
      await audit(tx, clock, { type: 'password.change-failed', accountId, requestId: input.requestId, payload: { reason: 'changed-meanwhile' } });
      return { ok: false, reason: 'session-ended' };
    }
    if (!(await sessionStillLive(tx, input.sessionId))) return { ok: false, reason: 'session-ended' };
    await setPasswordHash(tx, clock, accountId, hash);
    const sessionsEnded = await endOtherSessions(tx, clock, accountId, input.sessionId, 'password-changed', input.requestId);
    // After the others ended (their reason stays the password change). This session, which
    // just proved the password and a fresh email code, is kept even if one of these raised it.
    await removeCoolingOff(tx, deps, { accountId, locale: input.locale, client: input.client, requestId: input.requestId, currentSession: input.sessionId, keepCurrent: true });
    await queuePasswordChangedMail(tx, deps, { accountId, locale: input.locale, at: clock.now(), client: input.client, via: 'change' });
    await audit(tx, clock, { type: 'password.changed', accountId, requestId: input.requestId, payload: { via: 'change', sessionsEnded } });
    return { ok: true, sessionsEnded, token };
  });
  // Again once the new hash is in: a login that checked the old password locked the row before
  // this change did, and created its flow after the first ending above.
  if (changed.ok) await system(db, 'password-change', endPendingFlows);
  return changed;
}
