import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { confirmEnrolmentCode, otpauthUri, qrCodeSvg } from '../../auth/methods/totp.ts';
import { ensureEnrolmentAllowed, ensureSensitive } from '../../auth/sensitive.ts';
import { clearSessionCookie, forgetSession } from '../../auth/session-plugin.ts';
import type { Session } from '../../auth/sessions.ts';
import { clientOf } from '../../web/client.ts';
import { alert, field } from '../../web/forms.ts';
import type { SafeHtml } from '../../web/html.ts';
import { localeOf, t } from '../../web/i18n.ts';
import { sendPage, siteOf } from '../../web/layout.ts';
import type { AccountDeps } from '../account-deps.ts';
import { enrolApp, newPendingApp, openPendingApp, regenerateCodes, type PendingApp } from './totp-enrolment.ts';
import { codesPage, ENROL_PATH, enrolFailed, enrolPage, REGENERATE_PATH, type EnrolErrors } from './totp-views.ts';

/** What the citizen calls the app: one line, no control characters. */
const cleanName = (raw: string): string => raw.replace(/[\u0000-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim();

/**
 * /account/security/totp/new (add an authenticator app, behind the enrolment gate: a step-up
 * when the account already has a strong method, a fresh email code otherwise) and
 * /account/security/recovery-codes (a new set, a sensitive operation). Behind requireSession.
 */
export async function totpEnrolmentRoutes(app: FastifyInstance, deps: AccountDeps): Promise<void> {
  /** The session ended while the request ran: like requireSession. */
  function gone(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    forgetSession(request);
    clearSessionCookie(reply);
    return reply.redirect('/login', 303);
  }

  async function showEnrol(
    request: FastifyRequest,
    reply: FastifyReply,
    pending: { app: PendingApp; sealed: string },
    o: { status?: number; name?: string; errors?: EnrolErrors; notice?: SafeHtml } = {},
  ): Promise<FastifyReply> {
    const locale = localeOf(request);
    const uri = otpauthUri({ issuer: siteOf(request).serviceName, account: t(locale, 'totp.enrol.accountLabel'), secret: pending.app.secret });
    const main = enrolPage({ request, reply, locale, qrSvg: await qrCodeSvg(uri), secret: pending.app.secret, sealed: pending.sealed, ...o });
    return sendPage(reply, { request, locale, title: t(locale, 'totp.enrol.title'), main, status: o.status });
  }

  app.get(ENROL_PATH, async (request, reply) => {
    const session = await request.session();
    if (!session) return gone(request, reply);
    const gate = await ensureEnrolmentAllowed(deps, request, reply, session, ENROL_PATH);
    if (!gate.allowed) return reply;
    return showEnrol(request, reply, await newPendingApp(deps, session, request));
  });

  app.post(ENROL_PATH, async (request, reply) => {
    const session = await request.session();
    if (!session) return gone(request, reply);
    if (field(request, 'method') !== 'totp') return reply.code(400).send();
    // Checked again on the post: the session may have gone stale since the page was shown
    // (the form is then kept through the step-up and given back).
    const gate = await ensureEnrolmentAllowed(deps, request, reply, session, ENROL_PATH);
    if (!gate.allowed) return reply;
    const locale = localeOf(request);
    const name = cleanName(field(request, 'name', 200)).slice(0, 60);
    const code = field(request, 'code', 20);

    const sealed = field(request, 'pending', 1000);
    const pending = await openPendingApp(deps, session, request, sealed);
    if (!pending) {
      // Expired or not this session's: a new secret, said plainly (the app may hold the old one).
      return showEnrol(request, reply, await newPendingApp(deps, session, request), { status: 400, name, notice: alert('error', t(locale, 'totp.enrol.failed'), t(locale, 'totp.enrol.expired')) });
    }
    const refuse = (errors: EnrolErrors): Promise<FastifyReply> =>
      showEnrol(request, reply, { app: pending, sealed }, { status: 400, name, errors, notice: enrolFailed(locale) });

    const codeError = (reason: 'malformed' | 'wrong' | 'code-malformed' | 'code-wrong'): string =>
      t(locale, reason === 'malformed' || reason === 'code-malformed' ? 'totp.enrol.codeMalformed' : 'totp.enrol.codeWrong');
    if (name === '') {
      const checked = confirmEnrolmentCode(pending.secret, code, deps.clock.now());
      return refuse({ name: t(locale, 'totp.enrol.nameMissing'), code: checked.ok ? undefined : codeError(checked.reason) });
    }
    const result = await enrolApp(deps, { session, request, app: pending, name, code, fromStrongSession: gate.fromStrongSession, locale, client: clientOf(request), requestId: request.id });
    if (!result.ok) {
      if (result.reason === 'already-added') return reply.redirect('/account/security', 303);
      return refuse({ code: codeError(result.reason) });
    }
    const main = codesPage({ locale, timeZone: deps.timeZone, codes: result.codes, added: { name, coolingOffUntil: result.coolingOff ? result.sensitiveFrom : null } });
    return sendPage(reply, { request, locale, title: t(locale, 'totp.codes.title'), main });
  });

  app.post(REGENERATE_PATH, async (request, reply) => {
    const session: Session | null = await request.session();
    if (!session) return gone(request, reply);
    if (!(await ensureSensitive(deps, request, reply, session, REGENERATE_PATH))) return reply;
    const locale = localeOf(request);
    const codes = await regenerateCodes(deps, { session, request, locale, client: clientOf(request), requestId: request.id });
    if (!codes) return reply.redirect('/account/security', 303);
    return sendPage(reply, { request, locale, title: t(locale, 'totp.codes.title'), main: codesPage({ locale, timeZone: deps.timeZone, codes }) });
  });
}
