import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalisePassword } from '../../../accounts/password-policy.ts';
import { system } from '../../../db/contexts.ts';
import { formatDateTime, formatTime } from '../../../time-format.ts';
import { clientOf } from '../../../web/client.ts';
import { csrfBinding } from '../../../web/csrf.ts';
import { alert, field, narrow } from '../../../web/forms.ts';
import { html, type SafeHtml } from '../../../web/html.ts';
import { localeOf, t, type Locale } from '../../../web/i18n.ts';
import { cancelPathOfReturn } from '../../../oidc/return-to.ts';
import { sendPage } from '../../../web/layout.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { strongMethodsOf } from '../../authenticators.ts';
import { isKnownBrowser } from '../../known-browsers.ts';
import { checkSessionPassword } from '../../methods/session-password.ts';
import { requireSession } from '../../session-plugin.ts';
import type { Session } from '../../sessions.ts';
import { sendRefusalMessage } from '../code-messages.ts';
import { answerRefusedCode, codeForm, codePageRoutes, sendCodePage, sendFlowOver, type CodePageSpec } from '../code-routes.ts';
import { codeStepState } from '../code-step.ts';
import { answerFinished, finishMethod } from '../finish.ts';
import { loadFlow, type Flow, type FlowProblem } from '../flow.ts';
import { completeWithCode } from '../login/code-step.ts';
import { FIRST_STEPS, offeredSecondSteps } from '../method-registry.ts';
import { stepUpPage } from './views.ts';

/**
 * /step-up/:flow and /confirm/:flow: the flows a session goes through before a sensitive
 * operation, back to where it was asked (returnTo) once done. A step-up is eidas2 now: a
 * passkey, or the password again and a second strong step; a confirmation is a fresh email
 * code. Both belong to the session that asked: another session (or none) gets "not found".
 */
export async function sessionFlowRoutes(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  const { clock, policy, timeZone } = deps;
  // Every page of these flows is for a live session (a code is not even sent without one).
  app.addHook('preHandler', requireSession);

  async function ownFlow(request: FastifyRequest, reply: FastifyReply, id: string, session: Session): Promise<{ ok: true; flow: Flow } | { ok: false; problem: FlowProblem }> {
    return system(deps.db, 'step-up', async (tx) => {
      const loaded = await loadFlow(tx, clock, id, { kind: 'step-up', csrfBinding: csrfBinding(request, reply) });
      if (loaded.ok && loaded.flow.sessionId !== session.id) return { ok: false, problem: 'not-found' };
      return loaded;
    });
  }

  // Inside a service's sign-in, giving up goes back to the service (access_denied), not to /account.
  const cancelLink = (locale: Locale, returnTo: string | null): SafeHtml => {
    const toService = cancelPathOfReturn(returnTo);
    return toService ? html`<a class="fr-link" href="${toService}">${t(locale, 'oidc.cancel.link')}</a>` : html`<a class="fr-link" href="/account">${t(locale, 'stepUp.cancel')}</a>`;
  };

  async function show(request: FastifyRequest, reply: FastifyReply, id: string, status = 200, error?: SafeHtml): Promise<FastifyReply> {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    const locale = localeOf(request);
    // The flow and what the account can step up with, in one transaction (and round trip).
    const [loaded, strong] = await system(deps.db, 'step-up', (tx) =>
      Promise.all([loadFlow(tx, clock, id, { kind: 'step-up', csrfBinding: csrfBinding(request, reply) }), strongMethodsOf(tx, session.accountId, clock.now())]),
    );
    if (!loaded.ok || loaded.flow.sessionId !== session.id) return sendFlowOver(request, reply, '/account', loaded.ok ? 'not-found' : loaded.problem);
    const { flow } = loaded;
    const firstSteps = FIRST_STEPS.filter((s) => s.kinds.some((k) => strong.usable.has(k)));
    const secondSteps = offeredSecondSteps(strong.usable);
    const passwordDone = flow.completedMethods.includes('password');
    let body: SafeHtml;
    if (strong.usable.size === 0) {
      body = strong.usableFrom
        ? alert('warning', t(locale, 'stepUp.coolingOff.title'), t(locale, 'stepUp.coolingOff.body', { date: formatDateTime(locale, strong.usableFrom.toISOString(), timeZone) }))
        : html`${alert('info', t(locale, 'stepUp.none.title'), t(locale, 'stepUp.none.body'))}
  <p><a class="fr-link" href="/account/security">${t(locale, 'security.title')}</a></p>`;
    } else {
      body = stepUpPage({
        request,
        reply,
        locale,
        flowUrl: `/step-up/${flow.id}`,
        passwordDone,
        firstSteps: passwordDone ? [] : firstSteps.map((s) => s.render({ request, reply, locale, flow, base: '/step-up' })),
        secondSteps: secondSteps.map((s) => ({ href: `/step-up/${flow.id}/${s.path}`, label: s.label(locale) })),
        error,
      });
    }
    const main = narrow(html`<h1>${t(locale, 'stepUp.title')}</h1>
  <p>${t(locale, 'stepUp.lead', { minutes: Math.round(policy.stepUpMaxAge / 60) })}</p>
  ${body}
  <p class="fr-mt-4w">${cancelLink(locale, flow.returnTo)}</p>`);
    const scripts = passwordDone ? [] : [...new Set(firstSteps.flatMap((s) => s.scripts))];
    return sendPage(reply, { request, locale, title: t(locale, 'stepUp.title'), main, status, scripts });
  }

  app.get<{ Params: { flow: string } }>('/step-up/:flow', async (request, reply) => show(request, reply, request.params.flow));

  // The password, first of the two steps of a step-up without a passkey.
  app.post<{ Params: { flow: string } }>('/step-up/:flow', async (request, reply) => {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    if (field(request, 'method') !== 'password') return reply.code(400).send();
    const { flow: id } = request.params;
    const locale = localeOf(request);
    const owned = await ownFlow(request, reply, id, session);
    if (!owned.ok) return sendFlowOver(request, reply, '/account', owned.problem);
    const checked = await checkSessionPassword(deps, {
      accountId: session.accountId,
      password: normalisePassword(field(request, 'password', 1000)),
      client: clientOf(request),
      knownBrowser: isKnownBrowser(request, deps.ring.macKey, session.accountId),
      requestId: request.id,
      step: 'step-up',
    });
    if (!checked.ok) {
      if (checked.reason === 'session-ended') return reply.redirect('/login', 303);
      if (checked.reason === 'wrong') return show(request, reply, id, 401, alert('error', t(locale, 'login.failed.title'), t(locale, 'security.password.wrongCurrent')));
      const { verdict } = checked;
      const body =
        verdict.reason === 'recovery-required'
          ? t(locale, 'security.password.recoveryRequired')
          : t(locale, 'security.password.throttled.body', { time: formatTime(locale, verdict.retryAt.toISOString(), timeZone) });
      return show(request, reply, id, 429, alert('error', t(locale, 'security.password.throttled.title'), body));
    }
    const advanced = await system(deps.db, 'step-up', async (tx) => {
      const loaded = await loadFlow(tx, clock, id, { kind: 'step-up', csrfBinding: csrfBinding(request, reply) });
      if (!loaded.ok || loaded.flow.sessionId !== session.id) return false;
      // The password alone is no level: this only records it and moves to the second step.
      await finishMethod(tx, deps, request, loaded.flow, 'password', { locale, client: clientOf(request) });
      return true;
    });
    if (!advanced) return sendFlowOver(request, reply, '/account', 'not-found');
    return reply.redirect(`/step-up/${id}`, 303);
  });

  // /confirm/:flow: a fresh email code, with the pages and rules every code step has.
  async function showConfirm(request: FastifyRequest, reply: FastifyReply, flowId: string, status = 200, error?: string): Promise<FastifyReply> {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    const loaded = await codeStepState(deps, 'confirm', flowId, csrfBinding(request, reply), true);
    // A confirm flow made for another ceremony (a passkey enrolment keeps its challenge in one) has no code page.
    const ours = loaded.ok && loaded.state.flow.sessionId === session.id && loaded.state.flow.state === 'code';
    if (!ours) return sendFlowOver(request, reply, '/account', loaded.ok ? 'not-found' : loaded.problem);
    const locale = localeOf(request);
    const content = html`<p>${t(locale, 'confirm.lead')}</p>${codeForm(request, reply, deps, `/confirm/${flowId}`, loaded.state, error)}`;
    return sendCodePage(request, reply, content, status);
  }
  const confirmPage: CodePageSpec = { kind: 'confirm', base: '/confirm', show: showConfirm, sendRefusal: sendRefusalMessage, whileAt: 'code' };
  codePageRoutes(app, deps, confirmPage);

  app.post<{ Params: { flow: string } }>('/confirm/:flow', async (request, reply) => {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    const { flow } = request.params;
    if (field(request, 'method') !== 'email-code') return reply.code(400).send();
    const locale = localeOf(request);
    const result = await completeWithCode(deps, request, { kind: 'confirm', flowId: flow, sessionId: session.id, csrfBinding: csrfBinding(request, reply), code: field(request, 'code', 40), locale, client: clientOf(request) });
    if (result.ok) return answerFinished(request, reply, deps, result.finished);
    return answerRefusedCode(request, reply, confirmPage, flow, result);
  });
}
