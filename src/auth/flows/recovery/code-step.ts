import { system } from '../../../db/contexts.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { currentCodeExpiry, sendCode, verifyCode, type SendRefusal, type VerifyRefusal } from '../../methods/email-code.ts';
import { advanceFlow, loadFlow, type Flow, type FlowProblem } from '../flow.ts';

/**
 * The code step of a recovery. A flow without account behaves like any other (codes
 * counted, wrong codes counted until the flow fails): only the right code tells, and only
 * the owner of the address has it.
 */
export async function recoveryFlow(deps: AuthDeps, flowId: string, csrfBinding: string): Promise<{ ok: true; flow: Flow; codeExpiresAt: Date | null } | { ok: false; problem: FlowProblem }> {
  return system(deps.db, 'recovery', async (tx) => {
    const loaded = await loadFlow(tx, deps.clock, flowId, { kind: 'recovery', csrfBinding });
    if (!loaded.ok) return loaded;
    return { ok: true, flow: loaded.flow, codeExpiresAt: await currentCodeExpiry(tx, loaded.flow, deps.policy) };
  });
}

export async function resendRecoveryCode(
  deps: AuthDeps,
  input: { flowId: string; csrfBinding: string; locale: Locale; client: ClientInfo; requestId: string },
): Promise<{ ok: true } | { ok: false; problem: FlowProblem } | { ok: false; refusal: SendRefusal; retryAt?: Date }> {
  return system(deps.db, 'recovery', async (tx) => {
    const loaded = await loadFlow(tx, deps.clock, input.flowId, { kind: 'recovery', csrfBinding: input.csrfBinding });
    if (!loaded.ok) return loaded;
    // Past the code already (a second tab): nothing to send, the flow's page shows where it is.
    if (loaded.flow.state !== 'code') return { ok: true };
    const sent = await sendCode(tx, deps, loaded.flow, { purpose: 'recovery', locale: input.locale, browser: input.client.browser, os: input.client.os, requestId: input.requestId });
    return sent.ok ? { ok: true } : { ok: false, refusal: sent.reason, retryAt: sent.retryAt };
  });
}

/** The right code moves the flow on to choosing the password. */
export async function verifyRecoveryCode(
  deps: AuthDeps,
  input: { flowId: string; csrfBinding: string; code: string; requestId: string },
): Promise<{ ok: true } | { ok: false; problem: FlowProblem } | { ok: false; refusal: VerifyRefusal; remaining: number }> {
  return system(deps.db, 'recovery', async (tx) => {
    const loaded = await loadFlow(tx, deps.clock, input.flowId, { kind: 'recovery', csrfBinding: input.csrfBinding });
    if (!loaded.ok) return loaded;
    if (loaded.flow.state !== 'code') return { ok: true };
    const checked = await verifyCode(tx, deps, loaded.flow, input.code, input.requestId);
    if (!checked.ok) return { ok: false, refusal: checked.reason, remaining: checked.remaining };
    await advanceFlow(tx, loaded.flow, 'choose-password', 'email-code');
    return { ok: true };
  });
}
