import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseNir } from '../../../accounts/nir.ts';
import { formatTime } from '../../../mail/templates/time.ts';
import { clientOf } from '../../../web/client.ts';
import { csrfBinding } from '../../../web/csrf.ts';
import { alert, field, narrow } from '../../../web/forms.ts';
import type { SafeHtml } from '../../../web/html.ts';
import { localeOf, t, type Locale } from '../../../web/i18n.ts';
import { sendPage } from '../../../web/layout.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import type { ThrottleVerdict } from '../../throttle.ts';
import { sendRefusalMessageNonCommittal, verifyRefusalMessage } from '../code-messages.ts';
import { codeStep, flowOver } from '../code-step-view.ts';
import { readNewPassword } from '../new-password.ts';
import { recoveryFlow, resendRecoveryCode, verifyRecoveryCode } from './code-step.ts';
import { completeRecovery, passwordContext, type PasswordStepProblem } from './password-step.ts';
import { requestRecovery } from './request-step.ts';
import { choosePasswordPage, recoveryForm, type RecoveryFormOptions } from './views.ts';

const flowPath = (id: string): string => `/recover/${id}`;

/**
 * "Forgotten password": the NIR, then the code sent to the address on file, then a new
 * password that ends every session. Until the code, every answer is the same whether the
 * NIR matched an account or not.
 */
export async function recoveryRoutes(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  const { clock, policy, timeZone } = deps;

  function over(request: FastifyRequest, reply: FastifyReply, problem: PasswordStepProblem | 'failed'): FastifyReply {
    const locale = localeOf(request);
    const status = problem === 'not-found' || problem === 'other-browser' ? 404 : 410;
    return sendPage(reply, { request, locale, title: t(locale, 'flow.over.title'), main: narrow(flowOver(locale, '/recover', problem === 'failed')), status });
  }

  function form(request: FastifyRequest, reply: FastifyReply, o: Omit<RecoveryFormOptions, 'request' | 'reply' | 'locale'> = {}, status = 200): FastifyReply {
    const locale = localeOf(request);
    return sendPage(reply, { request, locale, title: t(locale, 'recovery.title'), main: narrow(recoveryForm({ request, reply, locale, ...o })), status });
  }

  function throttled(reply: FastifyReply, locale: Locale, verdict: Exclude<ThrottleVerdict, { ok: true }>): SafeHtml {
    // Only the client counter applies here (no password is tried), and it always has an end.
    const retryAt = 'retryAt' in verdict ? verdict.retryAt : new Date(clock.now().getTime() + policy.ipWindow * 1000);
    reply.header('retry-after', Math.max(1, Math.ceil((retryAt.getTime() - clock.now().getTime()) / 1000)));
    return alert('error', t(locale, 'login.throttled.title'), t(locale, 'recovery.throttled', { time: formatTime(locale, retryAt.toISOString(), timeZone) }));
  }

  async function showFlow(request: FastifyRequest, reply: FastifyReply, flowId: string, status = 200, error?: string): Promise<FastifyReply> {
    const locale = localeOf(request);
    const loaded = await recoveryFlow(deps, flowId, csrfBinding(request, reply));
    if (!loaded.ok) return over(request, reply, loaded.problem);
    if (loaded.flow.state === 'choose-password') {
      return sendPage(reply, { request, locale, title: t(locale, 'recovery.choosePassword.title'), main: narrow(choosePasswordPage({ request, reply, locale, action: flowPath(flowId) })), status });
    }
    const main = narrow(
      codeStep({
        request,
        reply,
        locale,
        timeZone,
        policy,
        flow: loaded.flow,
        now: clock.now(),
        verifyAction: flowPath(flowId),
        sendAction: `${flowPath(flowId)}/send`,
        // Never the masked address: the page must not tell whether the NIR matched.
        maskedEmail: null,
        codeExpiresAt: loaded.codeExpiresAt,
        error,
      }),
    );
    return sendPage(reply, { request, locale, title: t(locale, 'code.title'), main, status });
  }

  app.get('/recover', async (request, reply) => form(request, reply));

  app.post('/recover', async (request, reply) => {
    if (field(request, 'method') !== 'email-code') return reply.code(400).send();
    const locale = localeOf(request);
    const nirTyped = field(request, 'nir', 40);
    const nir = parseNir(nirTyped);
    // A format problem says nothing about any account.
    if (!nir.ok) return form(request, reply, { nir: nirTyped, error: nir.error.message[locale] }, 400);
    const result = await requestRecovery(deps, { nir: nir.nir.value, client: clientOf(request), csrfBinding: csrfBinding(request, reply), locale, requestId: request.id });
    if (result.ok) return reply.redirect(flowPath(result.flowId), 303);
    return form(request, reply, { nir: nirTyped, alert: throttled(reply, locale, result.verdict) }, 429);
  });

  app.get<{ Params: { flow: string } }>('/recover/:flow', async (request, reply) => showFlow(request, reply, request.params.flow));

  app.post<{ Params: { flow: string } }>('/recover/:flow/send', async (request, reply) => {
    const { flow } = request.params;
    if (field(request, 'method') !== 'email-code') return reply.code(400).send();
    const locale = localeOf(request);
    const sent = await resendRecoveryCode(deps, { flowId: flow, csrfBinding: csrfBinding(request, reply), locale, client: clientOf(request), requestId: request.id });
    if (sent.ok) return reply.redirect(flowPath(flow), 303);
    if ('problem' in sent) return over(request, reply, sent.problem);
    return showFlow(request, reply, flow, 429, sendRefusalMessageNonCommittal(locale, timeZone, sent.refusal, sent.retryAt));
  });

  // One address for the flow's two forms; the explicit method says which one was sent.
  app.post<{ Params: { flow: string } }>('/recover/:flow', async (request, reply) => {
    const { flow } = request.params;
    const method = field(request, 'method');
    const locale = localeOf(request);
    const binding = csrfBinding(request, reply);

    if (method === 'email-code') {
      const result = await verifyRecoveryCode(deps, { flowId: flow, csrfBinding: binding, code: field(request, 'code', 40), requestId: request.id });
      if (result.ok) return reply.redirect(flowPath(flow), 303);
      if ('problem' in result) return over(request, reply, result.problem);
      if (result.refusal === 'exhausted') return over(request, reply, 'failed');
      return showFlow(request, reply, flow, 400, verifyRefusalMessage(locale, result.refusal, result.remaining));
    }

    if (method === 'password') {
      const context = await passwordContext(deps, flow, binding);
      if (!context.ok) return context.problem === 'wrong-state' ? reply.redirect(flowPath(flow), 303) : over(request, reply, context.problem);
      const chosen = readNewPassword(request, locale, { nir: context.nir });
      if (!chosen.ok) {
        const main = narrow(choosePasswordPage({ request, reply, locale, action: flowPath(flow), errors: chosen.errors }));
        return sendPage(reply, { request, locale, title: t(locale, 'recovery.choosePassword.title'), main, status: 400 });
      }
      const done = await completeRecovery(deps, { flowId: flow, csrfBinding: binding, password: chosen.password, nir: context.nir, locale, client: clientOf(request), requestId: request.id });
      if (done.ok) return reply.redirect('/login?done=password-reset', 303);
      return done.problem === 'wrong-state' ? reply.redirect(flowPath(flow), 303) : over(request, reply, done.problem);
    }

    return reply.code(400).send();
  });
}
