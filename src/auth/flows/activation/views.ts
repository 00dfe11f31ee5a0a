import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfField } from '../../../web/csrf.ts';
import { input } from '../../../web/forms.ts';
import { html, type SafeHtml } from '../../../web/html.ts';
import { t, type Locale } from '../../../web/i18n.ts';
import { newPasswordForm } from '../new-password-view.ts';

export interface ActivationFormOptions {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  /** What was typed, given back on a format error. */
  nir?: string;
  birthDate?: string;
  errors?: { nir?: string; birthDate?: string };
  alert?: SafeHtml;
}

/** Step 1: NIR and birth date. A date picker where the browser has one, DD/MM/YYYY by hand elsewhere. */
export function activationForm(o: ActivationFormOptions): SafeHtml {
  const { locale } = o;
  const errors = o.errors ?? {};
  return html`<h1>${t(locale, 'activation.title')}</h1>
${o.alert ?? ''}
<p>${t(locale, 'activation.lead')}</p>
<form method="post" action="/activate" novalidate>
  ${csrfField(o.request, o.reply)}
  <input type="hidden" name="method" value="email-code">
  <fieldset class="fr-fieldset">
    <div class="fr-fieldset__element">
      ${input({ id: 'nir', label: t(locale, 'login.nir'), hint: t(locale, 'login.nirHint'), value: o.nir, error: errors.nir, autocomplete: 'username', maxlength: 30, autofocus: !errors.nir && !errors.birthDate && !o.alert })}
    </div>
    <div class="fr-fieldset__element">
      ${input({ id: 'birthDate', label: t(locale, 'activation.birthDate'), hint: t(locale, 'activation.birthDateHint'), type: 'date', value: o.birthDate, error: errors.birthDate, autocomplete: 'bday' })}
    </div>
  </fieldset>
  <button class="fr-btn" type="submit">${t(locale, 'activation.submit')}</button>
</form>
<ul class="fr-links-group fr-mt-4w">
  <li><a class="fr-link fr-icon-arrow-right-line fr-link--icon-right" href="/login">${t(locale, 'activation.toLogin')}</a></li>
</ul>`;
}

/** Step 3, once the code is verified: the first password. */
export function choosePasswordPage(o: { request: FastifyRequest; reply: FastifyReply; locale: Locale; action: string; errors?: { password?: string; confirm?: string } }): SafeHtml {
  return html`<h1>${t(o.locale, 'activation.choosePassword.title')}</h1>
<p>${t(o.locale, 'activation.choosePassword.lead')}</p>
${newPasswordForm(o)}`;
}
