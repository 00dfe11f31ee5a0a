import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfField } from '../../../web/csrf.ts';
import { input } from '../../../web/forms.ts';
import { html, type SafeHtml } from '../../../web/html.ts';
import { t, type Locale } from '../../../web/i18n.ts';
import { newPasswordForm } from '../new-password-view.ts';

export interface RecoveryFormOptions {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  /** What was typed, given back on a format error. */
  nir?: string;
  error?: string;
  alert?: SafeHtml;
}

/** Step 1: the NIR only. */
export function recoveryForm(o: RecoveryFormOptions): SafeHtml {
  const { locale } = o;
  return html`<h1>${t(locale, 'recovery.title')}</h1>
${o.alert ?? ''}
<p>${t(locale, 'recovery.lead')}</p>
<form method="post" action="/recover" novalidate>
  ${csrfField(o.request, o.reply)}
  <input type="hidden" name="method" value="email-code">
  ${input({ id: 'nir', label: t(locale, 'login.nir'), hint: t(locale, 'login.nirHint'), value: o.nir, error: o.error, autocomplete: 'username', maxlength: 30, autofocus: !o.error && !o.alert })}
  <button class="fr-btn" type="submit">${t(locale, 'recovery.submit')}</button>
</form>
<ul class="fr-links-group fr-mt-4w">
  <li><a class="fr-link fr-icon-arrow-right-line fr-link--icon-right" href="/activate">${t(locale, 'recovery.toActivation')}</a></li>
  <li><a class="fr-link fr-icon-arrow-right-line fr-link--icon-right" href="/login">${t(locale, 'recovery.toLogin')}</a></li>
</ul>`;
}

/** Step 3, once the code is verified: the new password. */
export function choosePasswordPage(o: { request: FastifyRequest; reply: FastifyReply; locale: Locale; action: string; errors?: { password?: string; confirm?: string } }): SafeHtml {
  return html`<h1>${t(o.locale, 'recovery.choosePassword.title')}</h1>
<p>${t(o.locale, 'recovery.choosePassword.lead')}</p>
${newPasswordForm(o)}`;
}
