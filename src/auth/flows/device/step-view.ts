import type { FastifyReply, FastifyRequest } from 'fastify';
import { formatTime } from '../../../time-format.ts';
import { csrfField } from '../../../web/csrf.ts';
import { alert, narrow } from '../../../web/forms.ts';
import { html, type SafeHtml } from '../../../web/html.ts';
import { t, type Locale, type MessageKey } from '../../../web/i18n.ts';
import type { StartRefusal } from '../../methods/device-approval.ts';
import { sendPage } from '../../../web/layout.ts';

/**
 * The computer's side of a device approval (login or step-up): the page that sends the
 * request, the waiting page with the one number to pick on the phone, and what happened.
 * The waiting page works without scripts (its button asks whether the phone approved);
 * device-wait.js presses it for the citizen once the phone has answered.
 */
export const PHONE_PATH = '/device';

interface StepPage {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  /** `${base}/${flowId}`: the choice of methods. */
  flowUrl: string;
  status?: number;
}

function send(o: StepPage, title: string, main: SafeHtml, scripts: readonly string[] = []): FastifyReply {
  return sendPage(o.reply, { request: o.request, locale: o.locale, title, main: narrow(main), status: o.status, scripts });
}

const otherMethod = (o: StepPage): SafeHtml => html`<p class="fr-mt-4w"><a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href="${o.flowUrl}">${t(o.locale, 'device.otherMethod')}</a></p>`;

export function sendStartPage(o: StepPage & { ttlSeconds: number; refusal?: SafeHtml }): FastifyReply {
  const { locale } = o;
  return send(
    o,
    t(locale, 'device.start.title'),
    html`<h1>${t(locale, 'device.start.title')}</h1>
${o.refusal ?? ''}
<p>${t(locale, 'device.start.body', { path: PHONE_PATH, minutes: Math.round(o.ttlSeconds / 60) })}</p>
<form method="post" action="${o.flowUrl}/device">
  ${csrfField(o.request, o.reply)}
  <input type="hidden" name="method" value="device-approval">
  <button class="fr-btn" type="submit">${t(locale, 'device.start.submit')}</button>
</form>
${otherMethod(o)}`,
  );
}

export function refusalAlert(locale: Locale, refusal: StartRefusal, o: { windowSeconds: number; timeZone: string }): SafeHtml {
  const body =
    refusal.reason === 'suspended'
      ? t(locale, 'device.refused.suspended', { time: formatTime(locale, refusal.until.toISOString(), o.timeZone) })
      : refusal.reason === 'rate-limit'
        ? t(locale, 'device.refused.rateLimit', { minutes: Math.round(o.windowSeconds / 60) })
        : t(locale, 'device.refused.noDevice');
  return alert('error', t(locale, 'device.refused.title'), body);
}

export function sendWaitPage(o: StepPage & { approvalId: string; expected: number; expiresAt: Date; timeZone: string; notYet?: boolean }): FastifyReply {
  const { locale } = o;
  const action = `${o.flowUrl}/device/${o.approvalId}`;
  return send(
    o,
    t(locale, 'device.wait.title'),
    html`<h1>${t(locale, 'device.wait.title')}</h1>
${o.notYet ? alert('info', t(locale, 'device.wait.notYetTitle'), t(locale, 'device.wait.notYet')) : ''}
<p>${t(locale, 'device.wait.pick')}</p>
<p class="fr-display--lg" id="approval-number">${o.expected}</p>
<p><strong>${t(locale, 'device.wait.expires', { time: formatTime(locale, o.expiresAt.toISOString(), o.timeZone) })}</strong></p>
<p class="fr-text--sm">${t(locale, 'device.wait.help', { path: PHONE_PATH })}</p>
<form method="post" action="${action}" data-approval-status="${action}/status">
  ${csrfField(o.request, o.reply)}
  <input type="hidden" name="method" value="device-approval">
  <button class="fr-btn" type="submit">${t(locale, 'device.wait.done')}</button>
</form>
${otherMethod(o)}`,
    ['device-wait.js'],
  );
}

export type Outcome = 'denied' | 'expired' | 'mismatch' | 'gone';
const OUTCOMES: Record<Outcome, [MessageKey, MessageKey]> = {
  denied: ['device.outcome.deniedTitle', 'device.outcome.denied'],
  expired: ['device.outcome.expiredTitle', 'device.outcome.expired'],
  mismatch: ['device.outcome.mismatchTitle', 'device.outcome.mismatch'],
  gone: ['device.outcome.goneTitle', 'device.outcome.gone'],
};

/** A refusal on the phone (denial or wrong number) ended the flow. */
export const endsFlow = (outcome: Outcome | 'approved' | 'pending'): outcome is 'denied' | 'mismatch' => outcome === 'denied' || outcome === 'mismatch';

/** What became of the request; a refusal on the phone ended the flow, so it starts again from `restart`. */
export function sendOutcomePage(o: StepPage & { outcome: Outcome; restart: string }): FastifyReply {
  const { locale } = o;
  const [title, body] = OUTCOMES[o.outcome];
  const next = endsFlow(o.outcome)
      ? html`<p><a class="fr-btn" href="${o.restart}">${t(locale, 'device.restart')}</a></p>`
      : html`<p><a class="fr-btn" href="${o.flowUrl}">${t(locale, 'device.otherMethod')}</a></p>`;
  return send(o, t(locale, title), html`<h1>${t(locale, title)}</h1>
${alert(o.outcome === 'denied' ? 'warning' : 'error', t(locale, title), t(locale, body))}
${next}`);
}
