import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientOf } from '../../../web/client.ts';
import { csrfBinding } from '../../../web/csrf.ts';
import { field, narrow } from '../../../web/forms.ts';
import { localeOf, t } from '../../../web/i18n.ts';
import { sendPage } from '../../../web/layout.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { sendRefusalMessage } from '../code-messages.ts';
import { answerRefusedCode, codeForm, codePageRoutes, sendCodePage, sendFlowOver, type CodePageSpec } from '../code-routes.ts';
import { codeStepState } from '../code-step.ts';
import { readNewPassword } from '../new-password.ts';
import { firstFormRoutes } from './first-form.ts';
import type { CodeFlowSpec } from './spec.ts';
import { checkCode, completeWithPassword, passwordContext } from './steps.ts';
import { choosePasswordPage } from './views.ts';

/**
 * An emailed-code flow's routes: its first form at `base`, then the code (show, resend,
 * verify) and the password at `${base}/<id>`. Until the code, every answer is the same
 * whether the first form matched an account or not: no address shown, refusals that read
 * like the flow's own limits.
 */
export function codeFlowRoutes<Typed>(app: FastifyInstance, deps: AuthDeps, spec: CodeFlowSpec<Typed>): void {
  const { kind, base } = spec;
  const flowUrl = (id: string): string => `${base}/${id}`;

  firstFormRoutes(app, deps, spec);

  function choosePassword(request: FastifyRequest, reply: FastifyReply, flowId: string, status: number, errors?: { password?: string; confirm?: string }): FastifyReply {
    const locale = localeOf(request);
    const main = narrow(choosePasswordPage({ request, reply, locale, action: flowUrl(flowId), errors }, spec.choosePassword));
    return sendPage(reply, { request, locale, title: t(locale, spec.choosePassword.title), main, status });
  }

  async function show(request: FastifyRequest, reply: FastifyReply, flowId: string, status = 200, error?: string): Promise<FastifyReply> {
    const loaded = await codeStepState(deps, kind, flowId, csrfBinding(request, reply), false);
    if (!loaded.ok) return sendFlowOver(request, reply, base, loaded.problem);
    if (loaded.state.flow.state === 'choose-password') return choosePassword(request, reply, flowId, status);
    return sendCodePage(request, reply, codeForm(request, reply, deps, flowUrl(flowId), loaded.state, error), status);
  }

  const codePage: CodePageSpec = { kind, base, show, sendRefusal: sendRefusalMessage, whileAt: 'code' };
  codePageRoutes(app, deps, codePage);

  // One address for the flow's two forms; the explicit method says which one was sent.
  app.post<{ Params: { flow: string } }>(`${base}/:flow`, async (request, reply) => {
    const { flow } = request.params;
    const method = field(request, 'method');
    const locale = localeOf(request);
    const binding = csrfBinding(request, reply);

    if (method === 'email-code') {
      const result = await checkCode(deps, kind, { flowId: flow, csrfBinding: binding, code: field(request, 'code', 40), requestId: request.id });
      if (result.ok) return reply.redirect(flowUrl(flow), 303);
      return answerRefusedCode(request, reply, codePage, flow, result);
    }

    if (method === 'password') {
      const context = await passwordContext(deps, kind, flow, binding);
      if (!context.ok) return context.problem === 'wrong-state' ? reply.redirect(flowUrl(flow), 303) : sendFlowOver(request, reply, base, context.problem);
      const chosen = readNewPassword(request, locale, { nir: context.nir });
      if (!chosen.ok) return choosePassword(request, reply, flow, 400, chosen.errors);
      const done = await completeWithPassword(deps, kind, spec.finish, { flowId: flow, csrfBinding: binding, password: chosen.password, nir: context.nir, locale, client: clientOf(request), requestId: request.id });
      if (done.ok) return reply.redirect(spec.doneUrl, 303);
      return done.problem === 'wrong-state' ? reply.redirect(flowUrl(flow), 303) : sendFlowOver(request, reply, base, done.problem);
    }

    return reply.code(400).send();
  });
}
