import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfField } from '../../../web/csrf.ts';
import { input } from '../../../web/forms.ts';
import { html, type SafeHtml } from '../../../web/html.ts';
import { t, type Locale } from '../../../web/i18n.ts';

/** A step-up's page: a passkey (alone), or the password then one of the second steps. */
export function stepUpPage(o: {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  flowUrl: string;
  passwordDone: boolean;
  firstSteps: SafeHtml[];
  secondSteps: { href: string; label: string }[];
  error?: SafeHtml;
}): SafeHtml {
  const { locale } = o;
  if (o.passwordDone) {
    return html`${o.error ?? ''}
  <p>${t(locale, 'stepUp.second.lead')}</p>
  <ul class="fr-btns-group" id="second-steps">
    ${o.secondSteps.map((s) => html`<li><a class="fr-btn fr-btn--secondary" href="${s.href}">${s.label}</a></li>`)}
  </ul>`;
  }
  const password =
    o.secondSteps.length === 0
      ? ''
      : html`<form method="post" action="${o.flowUrl}" id="step-up-password">
    ${csrfField(o.request, o.reply)}
    <input type="hidden" name="method" value="password">
    <fieldset class="fr-fieldset">
      <legend class="fr-fieldset__legend">${t(locale, 'stepUp.password.lead')}</legend>
      <div class="fr-fieldset__element">${input({ id: 'password', label: t(locale, 'login.password'), type: 'password', autocomplete: 'current-password', maxlength: 1000 })}</div>
    </fieldset>
    <button class="fr-btn" type="submit">${t(locale, 'stepUp.password.submit')}</button>
  </form>`;
  return html`${o.error ?? ''}
  ${o.firstSteps}
  ${password}`;
}
