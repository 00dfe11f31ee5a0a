import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONSOLE_PREFIX } from '../incident/access-scope.ts';
import { STAFF_POLICY } from '../staff/policy.ts';
import { csrfField } from '../web/csrf.ts';
import { alert, input, narrow } from '../web/forms.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { localeOf, t } from '../web/i18n.ts';
import { passkeyBlock } from './passkey-block.ts';
import { LOGIN_PATH } from './staff-session.ts';

/** The pages of the console's ceremonies: enrolment, login, step-up. */
export function enrolCodePage(request: FastifyRequest, reply: FastifyReply, error?: SafeHtml): SafeHtml {
  const locale = localeOf(request);
  return narrow(html`<h1>${t(locale, 'console.enrol.title')}</h1>
  <p>${t(locale, 'console.enrol.lead')}</p>
  ${error ?? ''}
  <form method="post" action="/console/enrol" id="enrol-code">
    ${csrfField(request, reply)}
    ${input({ id: 'code', label: t(locale, 'console.enrol.code'), hint: t(locale, 'console.enrol.codeHint'), autocomplete: 'off', maxlength: 40, autofocus: true })}
    <button class="fr-btn fr-mt-2w" type="submit">${t(locale, 'console.enrol.submit')}</button>
  </form>
  <p class="fr-mt-4w"><a class="fr-link" href="${LOGIN_PATH}">${t(locale, 'console.enrol.toLogin')}</a></p>`);
}

export function enrolPasskeyPage(request: FastifyRequest, reply: FastifyReply, id: string): SafeHtml {
  const locale = localeOf(request);
  return narrow(html`<h1>${t(locale, 'console.enrol.title')}</h1>
  <p>${t(locale, 'console.enrol.passkeyLead')}</p>
  ${passkeyBlock({ request, reply, locale, mode: 'register', options: `${CONSOLE_PREFIX}/enrol/${id}/options`, verify: `${CONSOLE_PREFIX}/enrol/${id}/passkey`, lead: t(locale, 'console.enrol.passkeyHint'), button: t(locale, 'console.enrol.passkeyButton') })}`);
}

export function loginPage(request: FastifyRequest, reply: FastifyReply): SafeHtml {
  const locale = localeOf(request);
  const query = request.query as Record<string, unknown> | undefined;
  const done = query?.done === 'logged-out' ? alert('success', t(locale, 'console.login.loggedOut')) : '';
  return narrow(html`<h1>${t(locale, 'console.login.title')}</h1>
  ${done}
  <p>${t(locale, 'console.login.lead')}</p>
  ${passkeyBlock({ request, reply, locale, mode: 'authenticate', options: `${LOGIN_PATH}/options`, verify: `${LOGIN_PATH}/{flow}`, lead: t(locale, 'console.login.hint'), button: t(locale, 'console.login.button') })}
  <p class="fr-mt-4w"><a class="fr-link" href="/console/enrol">${t(locale, 'console.login.toEnrol')}</a></p>`);
}

export function stepUpPage(request: FastifyRequest, reply: FastifyReply, id: string): SafeHtml {
  const locale = localeOf(request);
  return narrow(html`<h1>${t(locale, 'console.stepUp.title')}</h1>
  <p>${t(locale, 'console.stepUp.lead', { minutes: Math.round(STAFF_POLICY.stepUpMaxAge / 60) })}</p>
  ${passkeyBlock({ request, reply, locale, mode: 'authenticate', options: `${CONSOLE_PREFIX}/step-up/${id}/options`, verify: `${CONSOLE_PREFIX}/step-up/${id}/passkey`, lead: t(locale, 'console.stepUp.hint'), button: t(locale, 'console.stepUp.button') })}
  <p class="fr-mt-4w"><a class="fr-link" href="/console">${t(locale, 'console.stepUp.cancel')}</a></p>`);
}
