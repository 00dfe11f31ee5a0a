import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientOf } from '../../../web/client.ts';
import { csrfBinding } from '../../../web/csrf.ts';
import { field, narrow } from '../../../web/forms.ts';
import { localeOf, t } from '../../../web/i18n.ts';
import { sendPage, siteOf } from '../../../web/layout.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { sendFlowOver } from '../code-routes.ts';
import { answerFinished } from '../finish.ts';
import { checkStep, completeSecondStep, type SecondStepKind, type StepInput, type StepProblem } from './steps.ts';
import { refusalMessage, secondStepForm, type SecondStepMethod } from './views.ts';

const BASES: readonly { base: '/login' | '/step-up'; kind: SecondStepKind }[] = [
  { base: '/login', kind: 'login' },
  { base: '/step-up', kind: 'step-up' },
];
const METHODS: readonly SecondStepMethod[] = ['totp', 'recovery-code'];

/**
 * `${base}/:flow/totp` and `${base}/:flow/recovery-code` for login and step-up: the second
 * steps the flow's page links to (method-registry.ts) once the password is verified.
 */
export async function totpFlowRoutes(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  for (const { base, kind } of BASES) {
    for (const method of METHODS) routesFor(app, deps, base, kind, method);
  }
}

function routesFor(app: FastifyInstance, deps: AuthDeps, base: '/login' | '/step-up', kind: SecondStepKind, method: SecondStepMethod): void {
  // Where a flow that is over starts again: a login at /login, a step-up from the account.
  const restart = kind === 'login' ? '/login' : '/account';
  const title = (request: FastifyRequest): string => t(localeOf(request), method === 'totp' ? 'totp.step.title' : 'totp.recovery.title');

  function show(request: FastifyRequest, reply: FastifyReply, flowId: string, status = 200, error?: string): FastifyReply {
    const locale = localeOf(request);
    const main = narrow(secondStepForm({ request, reply, locale, service: siteOf(request).serviceName, method, flowUrl: `${base}/${flowId}`, error }));
    return sendPage(reply, { request, locale, title: title(request), main, status });
  }

  function notShown(request: FastifyRequest, reply: FastifyReply, flowId: string, problem: StepProblem): FastifyReply {
    if ('notHere' in problem) return reply.redirect(`${base}/${flowId}`, 303);
    return sendFlowOver(request, reply, restart, problem.problem);
  }

  async function stepInput(request: FastifyRequest, reply: FastifyReply, flowId: string): Promise<StepInput> {
    const sessionId = kind === 'step-up' ? ((await request.session())?.id ?? null) : null;
    return { kind, flowId, csrfBinding: csrfBinding(request, reply), sessionId };
  }

  app.get<{ Params: { flow: string } }>(`${base}/:flow/${method}`, async (request, reply) => {
    const { flow } = request.params;
    const checked = await checkStep(deps, await stepInput(request, reply, flow));
    if (!checked.ok) return notShown(request, reply, flow, checked);
    return show(request, reply, flow);
  });

  app.post<{ Params: { flow: string } }>(`${base}/:flow/${method}`, async (request, reply) => {
    const { flow } = request.params;
    if (field(request, 'method') !== method) return reply.code(400).send();
    const locale = localeOf(request);
    const result = await completeSecondStep(deps, request, { ...(await stepInput(request, reply, flow)), method, code: field(request, 'code', 40), locale, client: clientOf(request) });
    if (result.ok) return answerFinished(request, reply, deps, result.finished);
    if (!('refusal' in result)) return notShown(request, reply, flow, result);
    if (result.refusal === 'exhausted') return sendFlowOver(request, reply, restart, 'failed');
    const status = result.refusal === 'account-limit' ? 429 : 400;
    return show(request, reply, flow, status, refusalMessage(locale, method, result.refusal, result.remaining));
  });
}
