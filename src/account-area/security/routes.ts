import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalisePassword } from '../../accounts/password-policy.ts';
import { readNewPassword } from '../../auth/flows/new-password.ts';
import { isKnownBrowser } from '../../auth/known-browsers.ts';
import { clearSessionCookie, forgetSession, setSessionCookie } from '../../auth/session-plugin.ts';
import { endOtherSessions, type Session } from '../../auth/sessions.ts';
import { carries, citizenRequest } from '../../isolation/citizen-request.ts';
import { formatTime } from '../../time-format.ts';
import { clientOf } from '../../web/client.ts';
import { alert, field } from '../../web/forms.ts';
import type { SafeHtml } from '../../web/html.ts';
import { localeOf, t } from '../../web/i18n.ts';
import { sendAccountPage } from '../account-page.ts';
import { loginHistory } from './login-history.ts';
import { loginHistorySection } from './login-history-view.ts';
import type { AccountDeps } from '../account-deps.ts';
import { changePassword } from './change-password.ts';
import { authenticatorsSection } from './authenticators-view.ts';
import { authenticatorOf, listAuthenticators, removeAuthenticator } from '../../auth/authenticators.ts';
import { ensureFreshEmailCode, ensureSensitive } from '../../auth/sensitive.ts';
import { recoveryCodesLeft } from '../../auth/methods/recovery-codes.ts';
import { UUID } from '../../db/contexts.ts';
import { endMyOtherSessions, endMySession, listSessions } from './sessions-list.ts';
import { isSecurityNotice, securityPage, type PasswordErrors } from './views.ts';
import { listConnectedServices, withdrawConsent } from '../../oidc/connected-services.ts';
import { connectedServicesSection } from './connected-services-view.ts';

const PAGE = '/account/security';

/** "Sécurité du compte": change of password and the open sessions. Behind the area's requireSession. */
export async function securityRoutes(app: FastifyInstance, deps: AccountDeps): Promise<void> {
  const { clock, timeZone } = deps;

  async function show(
    request: FastifyRequest,
    reply: FastifyReply,
    session: Session,
    o: { status?: number; passwordAlert?: SafeHtml; passwordErrors?: PasswordErrors; strongAlert?: SafeHtml } = {},
  ): Promise<FastifyReply> {
    const locale = localeOf(request);
    const now = clock.now();
    const [sessions, authenticators, recoveryCodes, history, services] = await citizenRequest(deps, request, (tx) =>
      Promise.all([
        listSessions(tx, deps, session.accountId, session.id),
        listAuthenticators(tx, deps.ring, session.accountId),
        recoveryCodesLeft(tx, session.accountId),
        loginHistory(tx, deps, session.accountId, now),
        listConnectedServices(tx, session.accountId),
      ]),
    );
    // All read in the proven session's own context (RLS): its account is the data's.
    carries(request, session.accountId);
    const done = (request.query as Record<string, unknown> | undefined)?.done;
    const strong = authenticatorsSection({ request, reply, locale, timeZone, now, authenticators, recoveryCodesLeft: recoveryCodes });
    const main = securityPage({
      request,
      reply,
      locale,
      timeZone,
      sessions,
      strong,
      history: loginHistorySection(locale, timeZone, history),
      services: connectedServicesSection({ request, reply, locale, timeZone, services }),
      freshCodeMinutes: Math.round(deps.policy.stepUpMaxAge / 60),
      notice: isSecurityNotice(done) ? done : undefined,
      ...o,
    });
    return sendAccountPage(reply, { request, title: t(locale, 'security.title'), current: 'security', main, status: o.status });
  }

  /** The session ended while the request ran (another tab, another device): like requireSession. */
  function gone(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    forgetSession(request);
    clearSessionCookie(reply);
    return reply.redirect('/login', 303);
  }

  app.get(PAGE, async (request, reply) => {
    const session = await request.session();
    if (!session) return gone(request, reply);
    return show(request, reply, session);
  });

  app.post(`${PAGE}/password`, async (request, reply) => {
    const session = await request.session();
    if (!session) return gone(request, reply);
    if (field(request, 'method') !== 'password') return reply.code(400).send();
    // Re-authentication by a fresh email code (issue 4): what was typed is not kept, it is all secrets.
    if (!(await ensureFreshEmailCode(deps, request, reply, session, PAGE, { keep: false }))) return reply;
    const locale = localeOf(request);
    const result = await changePassword(deps, {
      accountId: session.accountId,
      sessionId: session.id,
      currentPassword: normalisePassword(field(request, 'current', 1000)),
      readNewPassword: (context) => readNewPassword(request, locale, context),
      client: clientOf(request),
      locale,
      requestId: request.id,
      knownBrowser: isKnownBrowser(request, deps.ring.macKey, session.accountId),
      request,
    });
    if (result.ok) {
      if (result.token) setSessionCookie(reply, result.token, deps.policy);
      return reply.redirect(`${PAGE}?done=password-changed`, 303);
    }

    const refused = (errors: PasswordErrors): Promise<FastifyReply> =>
      show(request, reply, session, { status: 400, passwordErrors: errors, passwordAlert: alert('error', t(locale, 'security.password.notChanged'), t(locale, 'security.password.fix')) });
    switch (result.reason) {
      case 'session-ended':
        return gone(request, reply);
      case 'wrong-current':
        return refused({ current: t(locale, 'security.password.wrongCurrent') });
      case 'invalid-new':
        return refused(result.errors);
      case 'same-as-current':
        return refused({ password: t(locale, 'security.password.same') });
      case 'throttled': {
        const { verdict } = result;
        if (verdict.reason === 'recovery-required') {
          return show(request, reply, session, { status: 429, passwordAlert: alert('error', t(locale, 'security.password.throttled.title'), t(locale, 'security.password.recoveryRequired')) });
        }
        reply.header('retry-after', Math.max(1, Math.ceil((verdict.retryAt.getTime() - clock.now().getTime()) / 1000)));
        const body = t(locale, 'security.password.throttled.body', { time: formatTime(locale, verdict.retryAt.toISOString(), timeZone) });
        return show(request, reply, session, { status: 429, passwordAlert: alert('error', t(locale, 'security.password.throttled.title'), body) });
      }
    }
  });

  // Removing a way to log in is a sensitive operation: eidas2 within the last minutes.
  app.post<{ Params: { id: string } }>(`${PAGE}/authenticators/:id/remove`, async (request, reply) => {
    const session = await request.session();
    if (!session) return gone(request, reply);
    const { id } = request.params;
    const locale = localeOf(request);
    if (!UUID.test(id)) return show(request, reply, session, { status: 404, strongAlert: alert('error', t(locale, 'strong.notFound')) });
    const target = await citizenRequest(deps, request, (tx) => authenticatorOf(tx, session.accountId, id));
    // One still cooling off (perhaps added by whoever phished the password and a code) gives
    // no step-up: its owner removes it with a fresh email code, and the other sessions end.
    const coolingOff = target !== null && target.sensitiveFrom.getTime() > clock.now().getTime();
    const returnTo = `${PAGE}/authenticators/${id}/remove`;
    const allowed = coolingOff ? await ensureFreshEmailCode(deps, request, reply, session, returnTo) : await ensureSensitive(deps, request, reply, session, returnTo);
    if (!allowed) return reply;
    // The sessions it raised end with it (this one too if it did: what is left of it is no
    // level). Sessions raised otherwise are untouched, except after a removal by email code.
    const removed = await citizenRequest(deps, request, async (tx) => {
      const done = await removeAuthenticator(tx, deps, { accountId: session.accountId, id, locale, client: clientOf(request), requestId: request.id, currentSession: session.id });
      if (done && coolingOff) await endOtherSessions(tx, clock, session.accountId, session.id, 'authenticator-removed', request.id);
      return done;
    });
    // Another account's id answers like an unknown one (no IDOR oracle), and nothing changes.
    if (!removed) return show(request, reply, session, { status: 404, strongAlert: alert('error', t(locale, 'strong.notFound')) });
    if (removed.currentEnded) return gone(request, reply);
    return reply.redirect(`${PAGE}?done=authenticator-removed`, 303);
  });

  app.post(`${PAGE}/sessions/end-others`, async (request, reply) => {
    const session = await request.session();
    if (!session) return gone(request, reply);
    await citizenRequest(deps, request, (tx) => endMyOtherSessions(tx, clock, { accountId: session.accountId, sessionId: session.id, requestId: request.id }));
    return reply.redirect(`${PAGE}?done=sessions-ended`, 303);
  });

  // "Retirer l'accès" to a connected service: the consent goes, with the grant and every token
  // of the service for this account (its access tokens stop working at once), and its next
  // sign-in asks consent again. Not a sensitive operation (it only takes access away). Another
  // account's consent reads as none (row-level security): the same 404 as an unknown service.
  app.post<{ Params: { clientId: string } }>(`${PAGE}/connected-services/:clientId/revoke`, async (request, reply) => {
    const session = await request.session();
    if (!session) return gone(request, reply);
    const withdrawn = await withdrawConsent(deps.oidcStore, deps.clock, { accountId: session.accountId, clientId: request.params.clientId, requestId: request.id }, (fn) => citizenRequest(deps, request, fn));
    if (!withdrawn) return reply.callNotFound();
    return reply.redirect(`${PAGE}?done=service-revoked`, 303);
  });

  // One other session. Another account's session, an ended one, an unknown id and this very
  // session (that is /logout) all get the same 404.
  app.post<{ Params: { id: string } }>(`${PAGE}/sessions/:id/end`, async (request, reply) => {
    const session = await request.session();
    if (!session) return gone(request, reply);
    const { id } = request.params;
    const ended =
      UUID.test(id) && id !== session.id && (await citizenRequest(deps, request, (tx) => endMySession(tx, clock, { accountId: session.accountId, sessionId: session.id, target: id, requestId: request.id })));
    if (!ended) return reply.callNotFound();
    return reply.redirect(`${PAGE}?done=session-ended`, 303);
  });
}
