import { nirIndex } from '../../../accounts/accounts.ts';
import { accountWithPasswordByNirIndex, lockPassword, setPasswordHash } from '../../../accounts/credentials.ts';
import { parseNir } from '../../../accounts/nir.ts';
import { audit } from '../../../audit/log.ts';
import { system } from '../../../db/contexts.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { beginAttempt, clientKey, forgiveAttempt, knownBrowserSubject, type ThrottleVerdict } from '../../throttle.ts';
import { createFlow } from '../flow.ts';
import { assertAccessOpen } from '../../../incident/access.ts';
import { recordLoginIdentifier } from '../../../isolation/login-identifier.ts';

export type PasswordStepResult =
  | { ok: true; flowId: string }
  | { ok: false; reason: 'invalid' }
  /** The right password, but an incident reset it: a new one must be chosen through recovery. */
  | { ok: false; reason: 'reset-required' }
  | { ok: false; reason: 'throttled'; verdict: Exclude<ThrottleVerdict, { ok: true }> };

/**
 * First step of a login: NIR + password. Wrong NIR, unknown NIR, no password yet and wrong
 * password all cost one Argon2id verification and give the same answer; a throttled attempt
 * costs none. On success a login flow is created, waiting for the second method.
 */
export async function passwordStep(
  deps: AuthDeps,
  input: {
    nir: string;
    password: string;
    client: ClientInfo;
    csrfBinding: string;
    requestId: string;
    /** Whether this browser already logged in to the account (device cookie). */
    knownBrowser?: (accountId: string) => boolean;
  },
): Promise<PasswordStepResult> {
  const { db, ring, clock, policy, verifier } = deps;
  const parsed = parseNir(input.nir);
  const nir = parsed.ok ? parsed.nir.value : null;
  const nirSubject = nir ? nirIndex(ring, nir) : null;
  const client = clientKey(ring.macKey, input.client.ip);

  // Committed before hashing, so that other processes see the attempt while it is computed.
  const before = await system(db, 'login', async (tx) => {
    // The kill switch, read from the database (no cache) in the step's own transaction.
    const [, found] = await Promise.all([assertAccessOpen(tx), nirSubject ? accountWithPasswordByNirIndex(tx, nirSubject) : null]);
    const account = found ? { id: found.id, status: found.status } : null;
    const subject = nirSubject && account && input.knownBrowser?.(account.id) ? knownBrowserSubject(ring.macKey, nirSubject) : nirSubject;
    const verdict = await beginAttempt(tx, clock, policy, subject, client);
    if (!verdict.ok) {
      await audit(tx, clock, { type: 'login.throttled', accountId: null, requestId: input.requestId, payload: { reason: verdict.reason, step: 'login' } });
      return { verdict, account: null, stored: null, subject };
    }
    const stored = found?.status === 'active' ? found.secret : null;
    return { verdict, account, stored, subject };
  });
  if (!before.verdict.ok) return { ok: false, reason: 'throttled', verdict: before.verdict };

  const { account, stored, subject } = before;
  const result = await verifier.verify(stored, input.password);
  // Hashed outside any transaction too: a rehash doubles the cost of this one login only.
  const rehash = result.ok && result.needsRehash ? await verifier.hasher.hash(input.password) : null;

  return system(db, 'login', async (tx) => {
    if (!result.ok || !account || !subject) {
      const reason = !nir ? 'invalid-nir' : !account ? 'unknown-nir' : account.status !== 'active' ? 'not-active' : 'wrong-password';
      await audit(tx, clock, { type: 'login.password-failed', accountId: account?.id ?? null, requestId: input.requestId, payload: { reason } });
      return { ok: false, reason: 'invalid' } as const;
    }
    const current = await lockPassword(tx, account.id);
    if (current?.secret !== stored) {
      // A recovery or change of password committed while this one was checked: the password
      // typed is no longer the account's. No flow, and above all no rehash of the old password
      // over the new one.
      await audit(tx, clock, { type: 'login.password-failed', accountId: account.id, requestId: input.requestId, payload: { reason: 'changed-meanwhile' } });
      return { ok: false, reason: 'invalid' } as const;
    }
    forgiveAttempt(tx, subject, client);
    // Checked only once the password is known right: a wrong one gets the usual answer, so the
    // reset tells nothing to someone who does not hold the password.
    if (current.resetRequired) {
      await audit(tx, clock, { type: 'login.password-failed', accountId: account.id, requestId: input.requestId, payload: { reason: 'reset-required' } });
      return { ok: false, reason: 'reset-required' } as const;
    }
    if (rehash) await setPasswordHash(tx, clock, account.id, rehash);
    const flow = await createFlow(tx, clock, { kind: 'login', state: 'second-factor', accountId: account.id, csrfBinding: input.csrfBinding, ttlSeconds: policy.flowTtl, completed: ['password'] });
    // What the citizen typed, for the session's tripwire (never the account's index: a lookup gone wrong must show).
    if (nirSubject) recordLoginIdentifier(tx, flow.id, nirSubject);
    await audit(tx, clock, { type: 'login.password-verified', accountId: account.id, requestId: input.requestId, payload: { flowId: flow.id, rehashed: rehash !== null } });
    return { ok: true, flowId: flow.id } as const;
  });
}
