import { readEmail } from '../../accounts/accounts.ts';
import { system } from '../../db/contexts.ts';
import type { ClientInfo } from '../../web/client.ts';
import type { Locale } from '../../web/i18n.ts';
import type { AuthDeps } from '../auth-deps.ts';
import { maskEmail } from '../mask-email.ts';
import { currentCodeExpiry, sendCode, type SendRefusal } from '../methods/email-code.ts';
import { authenticatorKinds, type AuthenticatorKind } from '../authenticators.ts';
import { loadFlow, type Flow, type FlowKind, type FlowProblem } from './flow.ts';

/** The flows that have an email-code step (a step-up needs a strong method: email is not one). */
export type CodeFlowKind = Exclude<FlowKind, 'step-up'>;

/**
 * The email-code step as every flow has it (login, activation, recovery): what its page
 * shows, and sending a new code. Each transaction runs in the system context named after the
 * flow, and the code mail's purpose is the flow's kind.
 */

/** What the code page shows. */
export interface CodeStepState {
  flow: Flow;
  /** Only read where the page may show it (login, after the password); null and false elsewhere. */
  maskedEmail: string | null;
  hasEmail: boolean;
  codeExpiresAt: Date | null;
  /** Login only: the kinds of strong authenticators the account has (the page offers their steps). */
  kinds: ReadonlySet<AuthenticatorKind>;
}

export async function codeStepState(
  deps: AuthDeps,
  kind: CodeFlowKind,
  flowId: string,
  csrfBinding: string,
  showEmail: boolean,
): Promise<{ ok: true; state: CodeStepState } | { ok: false; problem: FlowProblem }> {
  return system(deps.db, kind, async (tx) => {
    const loaded = await loadFlow(tx, deps.clock, flowId, { kind, csrfBinding });
    if (!loaded.ok) return loaded;
    const { flow } = loaded;
    // Activation and recovery never decrypt it: their pages must not tell whether the NIR matched.
    const shown = showEmail && flow.accountId !== null;
    const [email, kinds] = await Promise.all([
      shown && flow.accountId ? readEmail(tx, deps.ring, flow.accountId) : null,
      shown && flow.kind === 'login' && flow.accountId ? authenticatorKinds(tx, flow.accountId) : new Set<AuthenticatorKind>(),
    ]);
    return { ok: true, state: { flow, maskedEmail: email ? maskEmail(email) : null, hasEmail: email !== null, codeExpiresAt: currentCodeExpiry(flow, deps.policy), kinds } };
  });
}

export type SendCodeResult = { ok: true } | { ok: false; problem: FlowProblem } | { ok: false; refusal: SendRefusal; retryAt?: Date };

/**
 * A (new) code for the flow. With `whileAt`, only while the flow is at that state: a flow
 * past it (a second tab) has nothing to send, and its page shows where it is.
 */
export async function sendFlowCode(
  deps: AuthDeps,
  kind: CodeFlowKind,
  input: { flowId: string; csrfBinding: string; locale: Locale; client: ClientInfo; requestId: string; whileAt?: string },
): Promise<SendCodeResult> {
  return system(deps.db, kind, async (tx) => {
    const loaded = await loadFlow(tx, deps.clock, input.flowId, { kind, csrfBinding: input.csrfBinding });
    if (!loaded.ok) return loaded;
    if (input.whileAt !== undefined && loaded.flow.state !== input.whileAt) return { ok: true };
    const sent = await sendCode(tx, deps, loaded.flow, { purpose: kind, locale: input.locale, browser: input.client.browser, os: input.client.os, requestId: input.requestId });
    return sent.ok ? { ok: true } : { ok: false, refusal: sent.reason, retryAt: sent.retryAt };
  });
}
