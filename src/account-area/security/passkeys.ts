import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthDeps } from '../../auth/auth-deps.ts';
import { attestationOf, jsonField, sendJsonError } from '../../auth/flows/passkey/json.ts';
import { ensureEnrolmentAllowed, enrolmentGate } from '../../auth/sensitive.ts';
import { clientOf } from '../../web/client.ts';
import { csrfBinding, csrfField, csrfToken } from '../../web/csrf.ts';
import type { Session } from '../../auth/sessions.ts';
import { alert, input, narrow } from '../../web/forms.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { localeOf, t, type Locale } from '../../web/i18n.ts';
import { sendPage, siteOf } from '../../web/layout.ts';
import { WEBAUTHN_BROWSER_URL } from '../../web/static.ts';
import { finishEnrolment, NAME_MAX, passkeyName, startEnrolment } from './passkey-enrolment.ts';

const PAGE = '/account/security/passkeys/new';
const DONE = '/account/security';

/**
 * Adding a passkey from "Sécurité du compte". The page needs JavaScript (WebAuthn has no
 * form-post equivalent); without it, or without WebAuthn, it says so instead of showing a
 * button that does nothing. Listing, renaming and removing are the security page's, over
 * every kind of authenticator.
 */
function newPasskeyPage(request: FastifyRequest, reply: FastifyReply, locale: Locale): SafeHtml {
  return narrow(html`<h1>${t(locale, 'passkey.new.title')}</h1>
<p>${t(locale, 'passkey.new.lead')}</p>
<div data-passkey-nojs>${alert('info', t(locale, 'passkey.new.noScript'))}</div>
<div data-passkey-unsupported hidden>${alert('warning', t(locale, 'passkey.new.unsupported'))}</div>
<form method="post" action="/account/security/passkeys" novalidate hidden data-passkey="register" data-options="/account/security/passkeys/options" data-verify="/account/security/passkeys" data-csrf="${csrfToken(request, reply)}" data-vendor="${WEBAUTHN_BROWSER_URL}" data-msg-working="${t(locale, 'passkey.new.creating')}" data-msg-cancelled="${t(locale, 'passkey.new.cancelled')}" data-msg-network="${t(locale, 'passkey.network')}">
  ${csrfField(request, reply)}
  <input type="hidden" name="method" value="passkey">
  ${input({ id: 'name', label: t(locale, 'passkey.new.name'), hint: t(locale, 'passkey.new.nameHint'), maxlength: NAME_MAX, autocomplete: 'off', autofocus: true })}
  <p class="fr-message fr-mb-2w" role="status" aria-live="polite" data-passkey-status></p>
  <button class="fr-btn" type="submit" data-passkey-start>${t(locale, 'passkey.new.submit')}</button>
</form>
<ul class="fr-links-group fr-mt-4w"><li><a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href="${DONE}">${t(locale, 'passkey.new.back')}</a></li></ul>`);
}

export async function passkeyEnrolmentRoutes(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  const json = { config: { json: true } } as const;

  app.get(PAGE, async (request, reply) => {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    const gate = await ensureEnrolmentAllowed(deps, request, reply, session, PAGE);
    if (!gate.allowed) return reply;
    const locale = localeOf(request);
    return sendPage(reply, { request, locale, title: t(locale, 'passkey.new.title'), main: newPasskeyPage(request, reply, locale), scripts: ['passkey.js'] });
  });

  /**
   * What both JSON calls check first: the session, the enrolment gate (checked again on the
   * second: the session may have aged past its step-up while the citizen hesitated), and the
   * name (here too, so that a mistake shows before the citizen unlocks their device).
   */
  async function admitted(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ locale: Locale; session: Session; fromStrongSession: boolean; name: string } | { answered: FastifyReply }> {
    const locale = localeOf(request);
    const session = await request.session();
    if (!session) return { answered: sendJsonError(reply, 401, 'session', t(locale, 'passkey.expired')) };
    const gate = await enrolmentGate(deps, session);
    if (!gate.allowed) return { answered: sendJsonError(reply, 403, 'forbidden', t(locale, 'passkey.new.forbidden')) };
    const checked = passkeyName(jsonField(request, 'name', 1000));
    if (!checked.ok) return { answered: sendJsonError(reply, 400, 'name', t(locale, checked.reason === 'required' ? 'passkey.new.nameRequired' : 'passkey.new.nameTooLong')) };
    return { locale, session, fromStrongSession: gate.fromStrongSession, name: checked.name };
  }

  app.post('/account/security/passkeys/options', json, async (request, reply) => {
    const admission = await admitted(request, reply);
    if ('answered' in admission) return admission.answered;
    const { locale, session } = admission;
    const label = t(locale, 'passkey.userLabel', { service: siteOf(request).serviceName });
    const started = await startEnrolment(deps, { session, request, csrfBinding: csrfBinding(request, reply), label });
    return reply.send({ flow: started.flowId, options: started.options });
  });

  app.post('/account/security/passkeys', json, async (request, reply) => {
    const admission = await admitted(request, reply);
    if ('answered' in admission) return admission.answered;
    const { locale, session } = admission;
    const response = attestationOf(request);
    if (!response) return sendJsonError(reply, 400, 'bad_request', t(locale, 'passkey.new.failed'));
    const result = await finishEnrolment(deps, {
      session,
      request,
      fromStrongSession: admission.fromStrongSession,
      flowId: jsonField(request, 'flow', 40),
      csrfBinding: csrfBinding(request, reply),
      name: admission.name,
      response,
      locale,
      client: clientOf(request),
      requestId: request.id,
    });
    if (result.ok) return reply.send({ redirect: DONE });
    if (result.reason === 'flow') return sendJsonError(reply, 409, 'flow', t(locale, 'passkey.expired'));
    if (result.reason === 'duplicate') return sendJsonError(reply, 409, 'duplicate', t(locale, 'passkey.new.duplicate'));
    return sendJsonError(reply, 400, 'refused', t(locale, 'passkey.new.failed'));
  });
}
