import type { FastifyReply, FastifyRequest } from 'fastify';
import { pendingServiceCancelPath } from '../../../oidc/return-to.ts';
import { alert, input } from '../../../web/forms.ts';
import { html, type SafeHtml } from '../../../web/html.ts';
import { t, type Locale, type MessageKey } from '../../../web/i18n.ts';
import { fieldset, startForm } from '../start-form-view.ts';

export type LoginNotice = 'activated' | 'password-reset' | 'logged-out';
const NOTICES: Record<LoginNotice, MessageKey> = {
  activated: 'login.activated',
  'password-reset': 'login.passwordReset',
  'logged-out': 'login.loggedOut',
};
export const isLoginNotice = (v: unknown): v is LoginNotice => typeof v === 'string' && Object.hasOwn(NOTICES, v);

/** Step 1: NIR and password. The NIR typed is kept on error, the password never is. */
export function loginForm(o: { request: FastifyRequest; reply: FastifyReply; locale: Locale; nir?: string; error?: SafeHtml; notice?: LoginNotice }): SafeHtml {
  const { locale } = o;
  // Opened from a service's sign-in: a way to give it up (the service is told, access_denied).
  const cancel = pendingServiceCancelPath(o.request);
  return startForm({
    request: o.request,
    reply: o.reply,
    title: t(locale, 'login.title'),
    feedback: [o.error, o.notice ? alert('success', t(locale, NOTICES[o.notice])) : ''],
    lead: t(locale, 'login.lead'),
    action: '/login',
    method: 'password',
    fields: fieldset(
      input({ id: 'nir', label: t(locale, 'login.nir'), hint: t(locale, 'login.nirHint'), value: o.nir, autocomplete: 'username', maxlength: 30, autofocus: !o.error }),
      input({ id: 'password', label: t(locale, 'login.password'), type: 'password', autocomplete: 'current-password', maxlength: 1000 }),
    ),
    submit: t(locale, 'login.submit'),
    links: [
      { href: '/activate', label: t(locale, 'login.firstTime') },
      { href: '/recover', label: t(locale, 'login.forgotten') },
      ...(cancel ? [{ href: cancel, label: t(locale, 'oidc.cancel.link') }] : []),
    ],
  });
}

export const loginFailed = (locale: Locale): SafeHtml => alert('error', t(locale, 'login.failed.title'), t(locale, 'login.failed.body'));

/** After the password: the account's other second steps, besides the email code. */
export function otherMethods(locale: Locale, steps: { href: string; label: string }[]): SafeHtml {
  if (steps.length === 0) return html``;
  return html`<section class="fr-mt-5w" aria-labelledby="other-methods">
  <h2 class="fr-h5" id="other-methods">${t(locale, 'secondStep.other')}</h2>
  <ul class="fr-btns-group fr-btns-group--inline-md" id="second-steps">
    ${steps.map((s) => html`<li><a class="fr-btn fr-btn--secondary" href="${s.href}">${s.label}</a></li>`)}
  </ul>
</section>`;
}
