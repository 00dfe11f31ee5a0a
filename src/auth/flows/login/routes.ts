import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalisePassword } from '../../../accounts/password-policy.ts';
import { citizen } from '../../../db/contexts.ts';
import { formatTime } from '../../../time-format.ts';
import { clientOf } from '../../../web/client.ts';
import { csrfBinding } from '../../../web/csrf.ts';
import { alert, field, narrow } from '../../../web/forms.ts';
import { localeOf, t, type Locale } from '../../../web/i18n.ts';
import { sendPage } from '../../../web/layout.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { isKnownBrowser } from '../../known-browsers.ts';
import { clearSessionCookie, forgetSession } from '../../session-plugin.ts';
import { endSession } from '../../sessions.ts';
import { sendRefusalMessage } from '../code-messages.ts';
import { answerRefusedCode, codeForm, codePageRoutes, sendCodePage, sendFlowOver, type CodePageSpec } from '../code-routes.ts';
import { codeStepState } from '../code-step.ts';
import { completeWithCode } from './code-step.ts';
import { answerFinished } from '../finish.ts';
import { passwordStep } from './password-step.ts';
import { FIRST_STEPS, offeredSecondSteps } from '../method-registry.ts';
import { html } from '../../../web/html.ts';
import { isLoginNotice, loginFailed, loginForm, otherMethods } from './views.ts';
import { forgetOidcReturnUnlessFromService, pendingServiceCancelPath } from '../../../oidc/return-to.ts';

const flowPath = (id: string): string => `/login/${id}`;

/** Login: NIR + password, then the email code, then a session (DESIGN "Levels": eidas1). */
export async function loginRoutes(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  const { clock, timeZone } = deps;
  const title = (locale: Locale): string => t(locale, 'login.title');

  async function showCodeStep(request: FastifyRequest, reply: FastifyReply, flowId: string, status = 200, error?: string): Promise<FastifyReply> {
    const locale = localeOf(request);
    const loaded = await codeStepState(deps, 'login', flowId, csrfBinding(request, reply), true);
    if (!loaded.ok) return sendFlowOver(request, reply, '/login', loaded.problem);
    const { state } = loaded;
    const others = offeredSecondSteps(state.kinds).map((s) => ({ href: `${flowPath(flowId)}/${s.path}`, label: s.label(locale) }));
    const code = state.hasEmail ? codeForm(request, reply, deps, flowPath(flowId), state, error) : alert('warning', t(locale, 'code.title'), t(locale, 'code.noEmail'));
    const content = html`${code}${otherMethods(locale, others)}`;
    return sendCodePage(request, reply, content, status);
  }
  // Login tells the address it sends to, and why nothing was sent: the password already matched.
  const codePage: CodePageSpec = { kind: 'login', base: '/login', show: showCodeStep, sendRefusal: sendRefusalMessage };

  app.get('/login', async (request, reply) => {
    // A login begun here, not from a service's sign-in, never ends at that service.
    forgetOidcReturnUnlessFromService(request, reply);
    // Signed in already: the account, unless a service's sign-in asks for a new authentication
    // (prompt=login, max_age: interactions.ts); the new session then replaces this one.
    if ((await request.session()) && !pendingServiceCancelPath(request)) return reply.redirect('/account', 303);
    const locale = localeOf(request);
    const done = (request.query as Record<string, unknown>).done;
    const form = loginForm({ request, reply, locale, notice: isLoginNotice(done) ? done : undefined });
    const first = FIRST_STEPS.map((s) => s.render({ request, reply, locale, flow: null, base: '/login' }));
    return sendPage(reply, { request, locale, title: title(locale), main: narrow(html`${form}${first}`), scripts: [...new Set(FIRST_STEPS.flatMap((s) => s.scripts))] });
  });

  app.post('/login', async (request, reply) => {
    const locale = localeOf(request);
    const nir = field(request, 'nir', 40);
    if (field(request, 'method') !== 'password') return reply.code(400).send();
    const result = await passwordStep(deps, {
      nir,
      password: normalisePassword(field(request, 'password', 1000)),
      client: clientOf(request),
      csrfBinding: csrfBinding(request, reply),
      requestId: request.id,
      knownBrowser: (accountId) => isKnownBrowser(request, deps.ring.macKey, accountId),
    });
    if (result.ok) return reply.redirect(flowPath(result.flowId), 303);
    let error = loginFailed(locale);
    let status = 401;
    // Only after the right password (see passwordStep): the same words as the lock after many failures.
    if (result.reason === 'reset-required') error = alert('error', t(locale, 'login.resetRequired.title'), t(locale, 'login.recoveryRequired.body'));
    if (result.reason === 'throttled') {
      status = 429;
      const { verdict } = result;
      if (verdict.reason === 'recovery-required') error = alert('error', t(locale, 'login.throttled.title'), t(locale, 'login.recoveryRequired.body'));
      else {
        reply.header('retry-after', Math.max(1, Math.ceil((verdict.retryAt.getTime() - clock.now().getTime()) / 1000)));
        error = alert('error', t(locale, 'login.throttled.title'), t(locale, 'login.throttled.body', { time: formatTime(locale, verdict.retryAt.toISOString(), timeZone) }));
      }
    }
    return sendPage(reply, { request, locale, title: title(locale), main: narrow(loginForm({ request, reply, locale, nir, error })), status });
  });

  codePageRoutes(app, deps, codePage);

  app.post<{ Params: { flow: string } }>('/login/:flow', async (request, reply) => {
    const { flow } = request.params;
    if (field(request, 'method') !== 'email-code') return reply.code(400).send();
    const locale = localeOf(request);
    const result = await completeWithCode(deps, request, { kind: 'login', flowId: flow, csrfBinding: csrfBinding(request, reply), code: field(request, 'code', 40), locale, client: clientOf(request) });
    if (result.ok) return answerFinished(request, reply, deps, result.finished);
    return answerRefusedCode(request, reply, codePage, flow, result);
  });

  app.post('/logout', async (request, reply) => {
    const session = await request.session();
    if (session) await citizen(deps.db, session.accountId, (tx) => endSession(tx, clock, session, 'logout', request.id));
    forgetSession(request);
    clearSessionCookie(reply);
    return reply.redirect('/login?done=logged-out', 303);
  });
}
