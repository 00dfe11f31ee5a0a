import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthPolicy } from '../../auth/policy.ts';
import { nextSendAt } from '../../auth/methods/email-code.ts';
import { formatTime } from '../../time-format.ts';
import { csrfField } from '../../web/csrf.ts';
import { alert, input } from '../../web/forms.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { t, type Locale } from '../../web/i18n.ts';
import type { EmailChangeState } from './email-change.ts';

/**
 * The page of a change of email address: the code sent to the new address, the time it stops
 * working, and a new code (disabled during the cooldown; the server refuses it as well).
 */
export function emailCodePage(o: {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  timeZone: string;
  policy: AuthPolicy;
  now: Date;
  flowUrl: string;
  state: EmailChangeState;
  error?: string;
}): SafeHtml {
  const { locale, state } = o;
  const time = (d: Date): string => formatTime(locale, d.toISOString(), o.timeZone);
  const next = nextSendAt(state.flow, o.policy);
  const canSend = next !== null && next.getTime() <= o.now.getTime();
  return html`${o.error ? alert('error', o.error) : ''}
  <p>${t(locale, 'contact.email.code.sent', { email: state.to })}
  ${state.codeExpiresAt ? html`<strong>${t(locale, 'contact.email.code.expires', { time: time(state.codeExpiresAt) })}</strong>` : ''}</p>
  <form method="post" action="${o.flowUrl}">
    ${csrfField(o.request, o.reply)}
    <input type="hidden" name="method" value="email-code">
    ${input({ id: 'code', label: t(locale, 'code.label'), hint: t(locale, 'code.hint'), autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 12, autofocus: true })}
    <p class="fr-text--sm">${t(locale, 'code.neverShare')}</p>
    <button class="fr-btn" type="submit">${t(locale, 'code.submit')}</button>
  </form>
  <p class="fr-text--sm fr-mt-4w">${t(locale, 'code.spam')}</p>
  <form method="post" action="${o.flowUrl}/send" class="fr-mt-2w">
    ${csrfField(o.request, o.reply)}
    <input type="hidden" name="method" value="email-code">
    <button class="fr-btn fr-btn--secondary" type="submit"${canSend ? '' : html` disabled aria-describedby="resend-help"`}>${t(locale, 'code.resend')}</button>
    ${
      next === null
        ? html`<p class="fr-hint-text fr-mt-1w" id="resend-help">${t(locale, 'code.noMoreCodes')}</p>`
        : !canSend
          ? html`<p class="fr-hint-text fr-mt-1w" id="resend-help">${t(locale, 'code.resendAt', { time: time(next) })}</p>`
          : ''
    }
  </form>
  <p class="fr-mt-4w">${t(locale, 'contact.email.code.wrongAddress')}</p>
  <p><a class="fr-link" href="/account/contact">${t(locale, 'contact.email.code.back')}</a></p>`;
}

/** The flow is over (expired, used, failed, another browser's): nothing was changed, start again. */
export function emailChangeOver(locale: Locale): SafeHtml {
  return html`${alert('warning', t(locale, 'contact.email.over.title'), t(locale, 'contact.email.over.body'))}
  <p><a class="fr-btn" href="/account/contact">${t(locale, 'contact.email.code.back')}</a></p>`;
}
