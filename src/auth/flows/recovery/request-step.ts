import { findAccountByNir } from '../../../accounts/accounts.ts';
import { audit } from '../../../audit/log.ts';
import { system } from '../../../db/contexts.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { sendCode } from '../../methods/email-code.ts';
import { clientAllowed, clientKey, type ThrottleVerdict } from '../../throttle.ts';
import { createFlow, endFlow, type Flow } from '../flow.ts';

export type RecoveryRequestResult = { ok: true; flowId: string } | { ok: false; verdict: Exclude<ThrottleVerdict, { ok: true }> };

/**
 * First step of "forgotten password": the NIR. A flow is created and a code "sent" whatever
 * the NIR is, so that the next page is the same for everyone; only an active account gets a
 * flow with an account, and so a real code. An account waiting for activation is treated as
 * no match: it has no password to reset, and saying so would tell that it exists.
 */
export async function requestRecovery(
  deps: AuthDeps,
  input: { nir: string; client: ClientInfo; csrfBinding: string; locale: Locale; requestId: string },
): Promise<RecoveryRequestResult> {
  const { db, ring, clock, policy } = deps;
  return system(db, 'recovery', async (tx): Promise<RecoveryRequestResult> => {
    const verdict = await clientAllowed(tx, clock, policy, clientKey(ring.macKey, input.client.ip));
    if (!verdict.ok) {
      await audit(tx, clock, { type: 'login.throttled', accountId: null, requestId: input.requestId, payload: { reason: verdict.reason, step: 'recovery' } });
      return { ok: false, verdict };
    }
    const account = await findAccountByNir(tx, ring, input.nir);

    const mail = { purpose: 'recovery', locale: input.locale, browser: input.client.browser, os: input.client.os, requestId: input.requestId } as const;
    const start = (accountId: string | null): Promise<Flow> =>
      createFlow(tx, clock, { kind: 'recovery', state: 'code', accountId, csrfBinding: input.csrfBinding, ttlSeconds: policy.flowTtl });
    let flow = await start(account?.status === 'active' ? account.id : null);
    const sent = await sendCode(tx, deps, flow, mail);
    if (!sent.ok && flow.accountId !== null) {
      // No address on file, or the account's hourly limit reached: go on with a flow without
      // account, so the page is the one anyone gets (the refusal itself is audited).
      await endFlow(tx, clock, flow.id, 'refused');
      flow = await start(null);
      // A new flow without account is never refused: it has sent nothing yet.
      await sendCode(tx, deps, flow, mail);
    }
    await audit(tx, clock, { type: 'recovery.requested', accountId: flow.accountId, requestId: input.requestId, payload: { flowId: flow.id } });
    return { ok: true, flowId: flow.id };
  });
}
