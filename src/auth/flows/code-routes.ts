import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientOf } from '../../web/client.ts';
import { csrfBinding } from '../../web/csrf.ts';
import { field, narrow } from '../../web/forms.ts';
import type { SafeHtml } from '../../web/html.ts';
import { localeOf, t } from '../../web/i18n.ts';
import { sendPage } from '../../web/layout.ts';
import type { AuthDeps } from '../auth-deps.ts';
import type { VerifyRefusal } from '../methods/email-code.ts';
import { verifyRefusalMessage, type sendRefusalMessage } from './code-messages.ts';
import { sendFlowCode, type CodeFlowKind, type CodeStepState } from './code-step.ts';
import { codeStep, flowOver } from './code-step-view.ts';
import type { FlowProblem } from './flow.ts';

/**
 * The pages and routes of the email-code step that login, activation and recovery share.
 * A flow lives at `${base}/<id>`: its page (GET), its forms (POST) and `/send` for a new code;
 * `base` is also where a flow that is over starts again.
 */

/** Why a flow's page is not shown: 'failed' after too many wrong codes, 'account-changed' when the account left the state the flow needs. */
export type FlowOverReason = FlowProblem | 'failed' | 'account-changed';

/** 404 when the flow is not this browser's (or never existed), 410 once it has ended or expired. */
export function sendFlowOver(request: FastifyRequest, reply: FastifyReply, base: string, reason: FlowOverReason): FastifyReply {
  const locale = localeOf(request);
  const status = reason === 'not-found' || reason === 'other-browser' ? 404 : 410;
  return sendPage(reply, { request, locale, title: t(locale, 'flow.over.title'), main: narrow(flowOver(locale, base, reason === 'failed')), status });
}

/** The code form of the flow at `flowUrl`, for the state codeStepState() read. */
export function codeForm(request: FastifyRequest, reply: FastifyReply, deps: AuthDeps, flowUrl: string, state: CodeStepState, error?: string): SafeHtml {
  return codeStep({
    request,
    reply,
    locale: localeOf(request),
    timeZone: deps.timeZone,
    policy: deps.policy,
    flow: state.flow,
    now: deps.clock.now(),
    verifyAction: flowUrl,
    sendAction: `${flowUrl}/send`,
    maskedEmail: state.maskedEmail,
    codeExpiresAt: state.codeExpiresAt,
    error,
  });
}

export function sendCodePage(request: FastifyRequest, reply: FastifyReply, content: SafeHtml, status: number): FastifyReply {
  const locale = localeOf(request);
  return sendPage(reply, { request, locale, title: t(locale, 'code.title'), main: narrow(content), status });
}

/** Shows the flow's page; `error` goes to the code form. */
export type ShowFlow = (request: FastifyRequest, reply: FastifyReply, flowId: string, status?: number, error?: string) => Promise<FastifyReply>;

export interface CodePageSpec {
  kind: CodeFlowKind;
  base: string;
  show: ShowFlow;
  /** How a refused send reads: activation and recovery must not tell whether the NIR matched. */
  sendRefusal: typeof sendRefusalMessage;
  /** Sends only while the flow is at this state (see sendFlowCode). */
  whileAt?: string;
}

/** GET `${base}/:flow` and POST `${base}/:flow/send`. */
export function codePageRoutes(app: FastifyInstance, deps: AuthDeps, spec: CodePageSpec): void {
  const { base, show } = spec;
  app.get<{ Params: { flow: string } }>(`${base}/:flow`, async (request, reply) => show(request, reply, request.params.flow));

  app.post<{ Params: { flow: string } }>(`${base}/:flow/send`, async (request, reply) => {
    const { flow } = request.params;
    if (field(request, 'method') !== 'email-code') return reply.code(400).send();
    const locale = localeOf(request);
    const sent = await sendFlowCode(deps, spec.kind, { flowId: flow, csrfBinding: csrfBinding(request, reply), locale, client: clientOf(request), requestId: request.id, whileAt: spec.whileAt });
    if (sent.ok) return reply.redirect(`${base}/${flow}`, 303);
    if ('problem' in sent) return sendFlowOver(request, reply, base, sent.problem);
    return show(request, reply, flow, 429, spec.sendRefusal(locale, deps.timeZone, sent.refusal, sent.retryAt));
  });
}

/** A code that was not accepted: the page again saying why, or "over" once the flow has failed. */
export function answerRefusedCode(
  request: FastifyRequest,
  reply: FastifyReply,
  spec: Pick<CodePageSpec, 'base' | 'show'>,
  flowId: string,
  result: { problem: FlowProblem } | { refusal: VerifyRefusal; remaining: number },
): Promise<FastifyReply> | FastifyReply {
  if ('problem' in result) return sendFlowOver(request, reply, spec.base, result.problem);
  if (result.refusal === 'exhausted') return sendFlowOver(request, reply, spec.base, 'failed');
  return spec.show(request, reply, flowId, result.refusal === 'account-limit' ? 429 : 400, verifyRefusalMessage(localeOf(request), result.refusal, result.remaining));
}
