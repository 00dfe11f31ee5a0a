import { nirIndex, readField } from '../../accounts/accounts.ts';
import { passwordHash } from '../../accounts/credentials.ts';
import { audit } from '../../audit/log.ts';
import { citizen, system } from '../../db/contexts.ts';
import type { ClientInfo } from '../../web/client.ts';
import type { AuthDeps } from '../auth-deps.ts';
import { beginAttempt, clientKey, forgiveAttempt, knownBrowserSubject, type ThrottleVerdict } from '../throttle.ts';

export type SessionPasswordResult =
  | { ok: true; nir: string; stored: string | null }
  | { ok: false; reason: 'wrong' }
  | { ok: false; reason: 'throttled'; verdict: Exclude<ThrottleVerdict, { ok: true }> }
  /** The account went away (locked, closed) while the session lived. */
  | { ok: false; reason: 'session-ended' };

/**
 * The password typed again inside a session (change of password, step-up). The session alone
 * is not enough: a stolen cookie must not make this page an easier place to guess than
 * /login, so guesses count against the login's own throttle, before the hash is computed.
 */
export async function checkSessionPassword(
  deps: AuthDeps,
  input: { accountId: string; password: string; client: ClientInfo; knownBrowser: boolean; requestId: string; step: 'password-change' | 'step-up' },
): Promise<SessionPasswordResult> {
  const { db, ring, clock, policy, verifier } = deps;
  const { accountId } = input;
  const known = await citizen(db, accountId, async (tx) => {
    const [{ rows }, nir, stored] = await Promise.all([
      tx.query<{ status: string }>(`SELECT status FROM accounts WHERE id = $1`, [accountId]),
      readField(tx, ring, accountId, 'nir'),
      passwordHash(tx, accountId),
    ]);
    return rows[0]?.status === 'active' && nir ? { nir, stored } : null;
  });
  if (!known) return { ok: false, reason: 'session-ended' };

  const nirSubject = nirIndex(ring, known.nir);
  const subject = input.knownBrowser ? knownBrowserSubject(ring.macKey, nirSubject) : nirSubject;
  const client = clientKey(ring.macKey, input.client.ip);
  // Committed before hashing, like the login's password step, so that parallel guesses all count.
  const verdict = await system(db, input.step, async (tx) => {
    const v = await beginAttempt(tx, clock, policy, subject, client);
    if (!v.ok) await audit(tx, clock, { type: 'login.throttled', accountId, requestId: input.requestId, payload: { reason: v.reason, step: input.step } });
    return v;
  });
  if (!verdict.ok) return { ok: false, reason: 'throttled', verdict };

  const checked = await verifier.verify(known.stored, input.password);
  if (!checked.ok) {
    await citizen(db, accountId, (tx) =>
      input.step === 'password-change'
        ? audit(tx, clock, { type: 'password.change-failed', accountId, requestId: input.requestId, payload: { reason: 'wrong-current' } })
        : audit(tx, clock, { type: 'login.password-failed', accountId, requestId: input.requestId, payload: { reason: 'wrong-password' } }),
    );
    return { ok: false, reason: 'wrong' };
  }
  await system(db, input.step, async (tx) => forgiveAttempt(tx, subject, client));
  return { ok: true, nir: known.nir, stored: known.stored };
}
