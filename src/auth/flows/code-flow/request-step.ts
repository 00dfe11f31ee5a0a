import type { AuditEvent } from '../../../audit/catalogue.ts';
import { audit } from '../../../audit/log.ts';
import { system, type Tx } from '../../../db/contexts.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { sendCode } from '../../methods/email-code.ts';
import { clientAllowed, clientKey, type ThrottleVerdict } from '../../throttle.ts';
import { createFlow, type Flow } from '../flow.ts';
import type { CodeFlowKind } from './spec.ts';

/** What every first form passes on, besides its own fields. */
export interface RequestContext {
  client: ClientInfo;
  csrfBinding: string;
  locale: Locale;
  requestId: string;
}

export type RequestResult = { ok: true; flowId: string } | { ok: false; verdict: Exclude<ThrottleVerdict, { ok: true }> };

/**
 * First step of an emailed-code flow. A flow is created and a code "sent" whatever matched,
 * so that the next page is the same for everyone; only an account that `match` returns gets
 * a flow with an account, and so a real code. `requested` is the flow's audit event.
 */
export async function requestCodeFlow(
  deps: AuthDeps,
  kind: CodeFlowKind,
  input: RequestContext,
  o: { match: (tx: Tx) => Promise<string | null>; requested: (flow: Flow) => AuditEvent },
): Promise<RequestResult> {
  const { db, ring, clock, policy } = deps;
  return system(db, kind, async (tx): Promise<RequestResult> => {
    const verdict = await clientAllowed(tx, clock, policy, clientKey(ring.macKey, input.client.ip));
    if (!verdict.ok) {
      await audit(tx, clock, { type: 'login.throttled', accountId: null, requestId: input.requestId, payload: { reason: verdict.reason, step: kind } });
      return { ok: false, verdict };
    }
    const matched = await o.match(tx);

    const mail = { purpose: kind, locale: input.locale, browser: input.client.browser, os: input.client.os, requestId: input.requestId } as const;
    const flow = await createFlow(tx, clock, { kind, state: 'code', accountId: matched, csrfBinding: input.csrfBinding, ttlSeconds: policy.flowTtl });
    // A new flow is under its cooldown and its limit, and outside login an account over its
    // budget (or without an address) is held back silently: nothing here can be refused.
    const sent = await sendCode(tx, deps, flow, mail);
    if (!sent.ok) throw new Error(`a new ${kind} flow was refused a code (${sent.reason})`);
    await audit(tx, clock, o.requested(flow));
    return { ok: true, flowId: flow.id };
  });
}
