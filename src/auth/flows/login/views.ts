import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfField } from '../../../web/csrf.ts';
import { alert, input } from '../../../web/forms.ts';
import { html, type SafeHtml } from '../../../web/html.ts';
import { t, type Locale, type MessageKey } from '../../../web/i18n.ts';

export type LoginNotice = 'activated' | 'password-reset' | 'logged-out' | 'session-ended';
const NOTICES: Record<LoginNotice, MessageKey> = {
  activated: 'login.activated',
  'password-reset': 'login.passwordReset',
  'logged-out': 'login.loggedOut',
  'session-ended': 'login.sessionEnded',
};
export const isLoginNotice = (v: unknown): v is LoginNotice => typeof v === 'string' && Object.hasOwn(NOTICES, v);

/** Step 1: NIR and password. The NIR typed is kept on error, the password never is. */
export function loginForm(o: { request: FastifyRequest; reply: FastifyReply; locale: Locale; nir?: string; error?: SafeHtml; notice?: LoginNotice }): SafeHtml {
  const { locale } = o;
  return html`<h1>${t(locale, 'login.title')}</h1>
${o.error ?? ''}${o.notice ? alert('success', t(locale, NOTICES[o.notice])) : ''}
<p>${t(locale, 'login.lead')}</p>
<form method="post" action="/login" novalidate>
  ${csrfField(o.request, o.reply)}
  <input type="hidden" name="method" value="password">
  <fieldset class="fr-fieldset">
    <div class="fr-fieldset__element">
      ${input({ id: 'nir', label: t(locale, 'login.nir'), hint: t(locale, 'login.nirHint'), value: o.nir, autocomplete: 'username', maxlength: 30, autofocus: !o.error })}
    </div>
    <div class="fr-fieldset__element">
      ${input({ id: 'password', label: t(locale, 'login.password'), type: 'password', autocomplete: 'current-password', maxlength: 1000 })}
    </div>
  </fieldset>
  <button class="fr-btn" type="submit">${t(locale, 'login.submit')}</button>
</form>
<ul class="fr-links-group fr-mt-4w">
  <li><a class="fr-link fr-icon-arrow-right-line fr-link--icon-right" href="/activate">${t(locale, 'login.firstTime')}</a></li>
  <li><a class="fr-link fr-icon-arrow-right-line fr-link--icon-right" href="/recover">${t(locale, 'login.forgotten')}</a></li>
</ul>`;
}

export const loginFailed = (locale: Locale): SafeHtml => alert('error', t(locale, 'login.failed.title'), t(locale, 'login.failed.body'));
