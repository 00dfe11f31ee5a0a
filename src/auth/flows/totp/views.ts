import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfField } from '../../../web/csrf.ts';
import { alert, input } from '../../../web/forms.ts';
import { html, type SafeHtml } from '../../../web/html.ts';
import { t, type Locale } from '../../../web/i18n.ts';

export type SecondStepMethod = 'totp' | 'recovery-code';

/**
 * The second step of a login or a step-up by the authenticator app or a recovery code, once
 * the password is verified: one field, its error, and the way to the other methods.
 */
export function secondStepForm(o: {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  service: string;
  method: SecondStepMethod;
  /** The flow's page: `${base}/${flowId}`. */
  flowUrl: string;
  error?: string;
}): SafeHtml {
  const { locale } = o;
  const totp = o.method === 'totp';
  const field = totp
    ? input({ id: 'code', label: t(locale, 'totp.step.label'), hint: t(locale, 'totp.step.hint'), autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 12, autofocus: true, error: o.error })
    : input({ id: 'code', label: t(locale, 'totp.recovery.label'), hint: t(locale, 'totp.recovery.hint'), autocomplete: 'off', maxlength: 20, autofocus: true, error: o.error });
  return html`<h1>${t(locale, totp ? 'totp.step.title' : 'totp.recovery.title')}</h1>
${o.error ? alert('error', o.error) : ''}
<p>${totp ? t(locale, 'totp.step.lead', { service: o.service }) : t(locale, 'totp.recovery.lead')}</p>
<form method="post" action="${o.flowUrl}/${o.method}">
  ${csrfField(o.request, o.reply)}
  <input type="hidden" name="method" value="${o.method}">
  ${field}
  <button class="fr-btn" type="submit">${t(locale, 'totp.step.submit')}</button>
</form>
<ul class="fr-links-group fr-mt-4w">
  <li><a class="fr-link" href="${o.flowUrl}/${totp ? 'recovery-code' : 'totp'}">${t(locale, totp ? 'totp.step.useRecovery' : 'totp.recovery.useApp')}</a></li>
  <li><a class="fr-link" href="${o.flowUrl}">${t(locale, 'totp.step.otherMethods')}</a></li>
</ul>`;
}

/** What a refused code reads like. */
export function refusalMessage(locale: Locale, method: SecondStepMethod, reason: string, remaining: number): string {
  if (reason === 'account-limit') return t(locale, 'totp.step.accountLimit');
  if (method === 'recovery-code') return t(locale, reason === 'malformed' ? 'totp.recovery.malformed' : 'totp.recovery.wrong', { remaining });
  if (reason === 'malformed') return t(locale, 'totp.step.malformed');
  if (reason === 'replayed') return t(locale, 'totp.step.replayed', { remaining });
  return t(locale, 'totp.step.wrong', { remaining });
}
