import type { FastifyReply, FastifyRequest } from 'fastify';
import { formatTime } from '../../time-format.ts';
import { csrfField } from '../../web/csrf.ts';
import { alert } from '../../web/forms.ts';
import { input } from '../../web/forms.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { t, type Locale } from '../../web/i18n.ts';
import type { AuthPolicy } from '../policy.ts';
import { nextSendAt } from '../methods/email-code.ts';
import type { Flow } from './flow.ts';

/**
 * The email-code step, shared by login, activation and recovery: before the first code a
 * "send" button (login), then the code field with the time it stops working and a resend
 * button that is disabled during the cooldown (the server refuses it as well).
 */
export interface CodeStepOptions {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  timeZone: string;
  policy: AuthPolicy;
  flow: Flow;
  now: Date;
  /** Where the code and the resend request are posted. */
  verifyAction: string;
  sendAction: string;
  /** The masked address, or null when the page must not tell whether an account exists. */
  maskedEmail: string | null;
  codeExpiresAt: Date | null;
  error?: string;
}

export function codeStep(o: CodeStepOptions): SafeHtml {
  const time = (d: Date): string => formatTime(o.locale, d.toISOString(), o.timeZone);
  const next = nextSendAt(o.flow, o.policy);
  const canSend = next !== null && next.getTime() <= o.now.getTime();
  const sendForm = (label: string, primary: boolean): SafeHtml => html`<form method="post" action="${o.sendAction}" class="fr-mt-2w">
  ${csrfField(o.request, o.reply)}
  <input type="hidden" name="method" value="email-code">
  <button class="fr-btn${primary ? '' : ' fr-btn--secondary'}" type="submit"${canSend ? '' : html` disabled aria-describedby="resend-help"`}>${label}</button>
  ${
    next === null
      ? html`<p class="fr-hint-text fr-mt-1w" id="resend-help">${t(o.locale, 'code.noMoreCodes')}</p>`
      : !canSend
        ? html`<p class="fr-hint-text fr-mt-1w" id="resend-help">${t(o.locale, 'code.resendAt', { time: time(next) })}</p>`
        : ''
  }
</form>`;

  const feedback = o.error ? alert('error', o.error) : '';
  if (o.flow.codesSent === 0) {
    return html`<h1>${t(o.locale, 'code.title')}</h1>
${feedback}
<p>${t(o.locale, 'code.willSend', { email: o.maskedEmail ?? '' })}</p>
${sendForm(t(o.locale, 'code.send'), true)}`;
  }
  return html`<h1>${t(o.locale, 'code.title')}</h1>
${feedback}
<p>${o.maskedEmail === null ? t(o.locale, 'code.sentMaybe') : t(o.locale, 'code.sent', { email: o.maskedEmail })}
${o.codeExpiresAt ? html`<strong>${t(o.locale, 'code.expires', { time: time(o.codeExpiresAt) })}</strong>` : ''}</p>
<form method="post" action="${o.verifyAction}">
  ${csrfField(o.request, o.reply)}
  <input type="hidden" name="method" value="email-code">
  ${input({ id: 'code', label: t(o.locale, 'code.label'), hint: t(o.locale, 'code.hint'), autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 12, autofocus: true })}
  <p class="fr-text--sm">${t(o.locale, 'code.neverShare')}</p>
  <button class="fr-btn" type="submit">${t(o.locale, 'code.submit')}</button>
</form>
<p class="fr-text--sm fr-mt-4w">${t(o.locale, 'code.spam')}</p>
${sendForm(t(o.locale, 'code.resend'), false)}`;
}

/** The page for a flow that is over: expired, closed, failed, or from another browser. */
export function flowOver(locale: Locale, restartHref: string, failed = false): SafeHtml {
  return html`<h1>${t(locale, 'flow.over.title')}</h1>
${alert('warning', t(locale, 'flow.over.title'), t(locale, failed ? 'flow.failed.body' : 'flow.over.body'))}
<p><a class="fr-btn" href="${restartHref}">${t(locale, 'flow.restart')}</a></p>`;
}
