import type { Tx } from '../../db/contexts.ts';
import type { Clock } from '../../clock.ts';
import { audit } from '../../audit/log.ts';
import { endFlow, type Flow } from '../flows/flow.ts';
import type { AuthPolicy } from '../policy.ts';

/**
 * The account's lock for its one-time codes, held to the end of the transaction: counts of
 * codes sent and of wrong codes across the account's flows are read and raised under it, so
 * that concurrent requests over several flows cannot all pass one count.
 */
export function lockAccountCodes(tx: Tx, accountId: string): Promise<unknown> {
  return tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('codes:' || $1, 0))`, [accountId]);
}

/**
 * The attempt counter the strong one-time codes (authenticator app, recovery code) share with
 * the email code: auth_flows.code_failures, raised before comparing (DESIGN principle 5). A
 * TOTP code is 6 digits like the email code, but whoever knows the password may open flow
 * after flow, each with its own attempts: so wrong codes are also capped per account over a
 * day, across login and step-up flows (the same budget sendCode() looks at).
 */
export type AttemptRefusal = 'exhausted' | 'account-limit';

export async function raiseAttempt(
  tx: Tx,
  deps: { clock: Clock; policy: AuthPolicy },
  flow: Flow,
): Promise<{ ok: true; failures: number } | { ok: false; reason: AttemptRefusal }> {
  const { clock, policy } = deps;
  const accountId = flow.accountId as string;
  const since = new Date(clock.now().getTime() - 24 * 3600 * 1000);
  // The account lock (the one sendCode() takes) serialises the count between the account's
  // concurrent flows: N parallel guesses over N flows cannot all pass a check made before any
  // of them counted. The count and the raise are pipelined behind it.
  const [, { rows: counted }] = await Promise.all([
    lockAccountCodes(tx, accountId),
    tx.query<{ failures: number }>(
      `SELECT coalesce(sum(code_failures), 0)::int AS failures FROM auth_flows WHERE account_id = $1 AND kind IN ('login', 'step-up') AND created_at > $2`,
      [accountId, since],
    ),
  ]);
  if ((counted[0]?.failures ?? 0) >= policy.codeFailuresPerAccountPerDay) return { ok: false, reason: 'account-limit' };
  // Guarded by the limit: of N parallel guesses on one flow, at most the allowed number are
  // ever compared (the flow row is locked by loadFlow; the UPDATE re-checks anyway).
  const { rows } = await tx.query<{ code_failures: number }>(
    `UPDATE auth_flows SET code_failures = code_failures + 1 WHERE id = $1 AND code_failures < $2 RETURNING code_failures`,
    [flow.id, policy.codeMaxAttempts],
  );
  const failures = rows[0]?.code_failures;
  return failures === undefined ? { ok: false, reason: 'exhausted' } : { ok: true, failures };
}

/** The right code is not a failure: the attempt raised before comparing is given back. */
export function giveBackAttempt(tx: Tx, flowId: string): void {
  tx.send(`UPDATE auth_flows SET code_failures = code_failures - 1 WHERE id = $1 AND code_failures > 0`, [flowId]);
}

/**
 * How a strong one-time code is refused: audited with a reason code only (never the code), and
 * the flow ended once its attempts are exhausted.
 */
export function refusal<R extends string>(
  tx: Tx,
  deps: { clock: Clock },
  flow: Flow,
  method: 'totp' | 'recovery-code',
  requestId: string | undefined,
): (reason: R, remaining: number) => Promise<{ ok: false; reason: R; remaining: number }> {
  return async (reason, remaining) => {
    await audit(tx, deps.clock, { type: 'method.failed', accountId: flow.accountId, requestId, payload: { flowId: flow.id, method, reason } });
    if (reason === 'exhausted') await endFlow(tx, deps.clock, flow.id, 'failed');
    return { ok: false, reason, remaining };
  };
}
