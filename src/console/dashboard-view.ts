import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessState } from '../incident/access.ts';
import { ACCESS_SCOPES, type AccessScope } from '../incident/access-scope.ts';
import { TITLE_MAX, type Incident } from '../incident/incidents.ts';
import { STAFF_POLICY } from '../staff/policy.ts';
import { formatDateTime, localFromInstant } from '../time-format.ts';
import { csrfField } from '../web/csrf.ts';
import { alert, input } from '../web/forms.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t, type Locale } from '../web/i18n.ts';
import { table } from '../web/table.ts';

/** GDPR Art. 33: the supervisory authority is told within 72 hours of becoming aware. */
export const NOTIFY_WITHIN_MS = 72 * 3600_000;

export function timeLeft(locale: Locale, incident: Incident, now: Date): string {
  const left = incident.detectedAt.getTime() + NOTIFY_WITHIN_MS - now.getTime();
  const minutes = Math.floor(Math.abs(left) / 60_000);
  const vars = { hours: Math.floor(minutes / 60), minutes: minutes % 60 };
  return t(locale, left > 0 ? 'console.incidents.left' : 'console.incidents.overdue', vars);
}

export interface AccessFormValues {
  scope: AccessScope;
  reason: string;
  messageFr: string;
  messageEn: string;
  error: { field: 'reason' | 'message_fr' | 'message_en'; text: string } | null;
}

export interface IncidentFormValues {
  title: string;
  /** As typed: `YYYY-MM-DDTHH:MM` in the site's zone. */
  detectedAt: string;
  error: { field: 'title' | 'detected_at'; text: string } | null;
}

/** Opening an incident (what `sesame incident open` does): a title and when it was detected, in the site's zone. */
function openIncidentForm(request: FastifyRequest, reply: FastifyReply, locale: Locale, form: IncidentFormValues | null, now: Date, timeZone: string): SafeHtml {
  const errorOf = (f: 'title' | 'detected_at'): string | undefined => (form?.error?.field === f ? form.error.text : undefined);
  return html`<form method="post" action="/console/incidents" id="open-incident" class="fr-mt-4w">
  ${csrfField(request, reply)}
  <fieldset class="fr-fieldset">
    <legend class="fr-fieldset__legend">${t(locale, 'console.incidentOpen.legend')}<span class="fr-hint-text">${t(locale, 'console.incidentOpen.lead')}</span></legend>
    <div class="fr-fieldset__element">${input({ id: 'title', label: t(locale, 'console.incidentOpen.titleLabel'), hint: t(locale, 'console.incidentOpen.titleHint'), value: form?.title, error: errorOf('title'), maxlength: TITLE_MAX })}</div>
    <div class="fr-fieldset__element">${input({ id: 'detected_at', type: 'datetime-local', label: t(locale, 'console.incidentOpen.detectedLabel'), hint: t(locale, 'console.incidentOpen.detectedHint', { zone: timeZone }), value: form?.detectedAt ?? localFromInstant(now, timeZone), error: errorOf('detected_at') })}</div>
  </fieldset>
  <button class="fr-btn fr-btn--secondary" type="submit">${t(locale, 'console.incidentOpen.submit')}</button>
</form>`;
}

function incidentsTable(locale: Locale, incidents: readonly Incident[], now: Date, timeZone: string): SafeHtml {
  if (incidents.length === 0) return html`<p id="no-incident">${t(locale, 'console.incidents.none')}</p>`;
  const rows = incidents.map(
    (i) => html`<tr>
  <td><a href="/console/incidents/${i.reference}">${i.reference}</a></td>
  <td>${i.title}</td>
  <td>${formatDateTime(locale, i.detectedAt.toISOString(), timeZone)}</td>
  <td>${timeLeft(locale, i, now)}</td>
</tr>`,
  );
  return table({
    id: 'open-incidents',
    hideCaption: true,
    caption: t(locale, 'console.incidents.caption'),
    headers: [t(locale, 'console.incidents.reference'), t(locale, 'console.incidents.titleColumn'), t(locale, 'console.incidents.detectedAt'), t(locale, 'console.incidents.timeLeft')],
    rows,
  });
}

function accessScope(request: FastifyRequest, reply: FastifyReply, locale: Locale, state: AccessState, timeZone: string, form: AccessFormValues | null, sessionsToEnd: number): SafeHtml {
  const scope = state.scope;
  const ours = form?.scope === scope ? form : null;
  const changed = state.changedAt
    ? html`<p class="fr-text--sm">${t(locale, 'console.access.changed', { at: formatDateTime(locale, state.changedAt.toISOString(), timeZone), by: state.changedBy ?? '?' })}${
        state.reason ? html` — ${t(locale, 'console.access.reason')} ${state.reason}` : ''
      }</p>`
    : html`<p class="fr-text--sm">${t(locale, 'console.access.neverChanged')}</p>`;
  const errorOf = (f: 'reason' | 'message_fr' | 'message_en'): string | undefined => (ours?.error?.field === f ? ours.error.text : undefined);
  const action = state.open
    ? html`<form method="post" action="/console/access/close" id="close-${scope}">
    ${csrfField(request, reply)}
    <input type="hidden" name="scope" value="${scope}">
    <fieldset class="fr-fieldset">
      <legend class="fr-fieldset__legend">${t(locale, `console.access.closeLegend.${scope}`)}${
        scope === 'citizens'
          ? html`<span class="fr-hint-text" id="sessions-to-end">${t(locale, 'console.access.sessionsToEnd', { count: sessionsToEnd })}</span>`
          : html`<span class="fr-hint-text" id="staff-sessions-to-end">${t(locale, 'console.access.staffSessionsToEnd', { count: sessionsToEnd })}</span>`
      }</legend>
      <div class="fr-fieldset__element">${input({ id: `reason-${scope}`, label: t(locale, 'console.access.reasonLabel'), hint: t(locale, 'console.access.reasonHint'), value: ours?.reason, error: errorOf('reason'), maxlength: 500 })}</div>
      <div class="fr-fieldset__element">${input({ id: `message_fr-${scope}`, label: t(locale, 'console.access.messageFr'), hint: t(locale, 'console.access.messageHint'), value: ours?.messageFr, error: errorOf('message_fr'), maxlength: 500 })}</div>
      <div class="fr-fieldset__element">${input({ id: `message_en-${scope}`, label: t(locale, 'console.access.messageEn'), value: ours?.messageEn, error: errorOf('message_en'), maxlength: 500 })}</div>
    </fieldset>
    <button class="fr-btn fr-btn--secondary" type="submit">${t(locale, `console.access.close.${scope}`)}</button>
  </form>`
    : html`<form method="post" action="/console/access/open" id="open-${scope}">
    ${csrfField(request, reply)}
    <input type="hidden" name="scope" value="${scope}">
    <button class="fr-btn" type="submit">${t(locale, `console.access.open.${scope}`)}</button>
  </form>`;
  return html`<div class="fr-col-12 fr-col-md-6" id="access-${scope}">
  <h3>${t(locale, `console.access.scope.${scope}`)}</h3>
  <p><span class="fr-badge fr-badge--${state.open ? 'success' : 'error'}" id="access-${scope}-state">${t(locale, state.open ? 'console.access.open' : 'console.access.closed')}</span></p>
  ${changed}
  ${action}
</div>`;
}

export function dashboardMain(o: {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  incidents: readonly Incident[];
  access: Record<AccessScope, AccessState>;
  /** Live sessions a close of each scope would end now. */
  sessionsToEnd: Record<AccessScope, number>;
  now: Date;
  timeZone: string;
  notice: SafeHtml | null;
  form: AccessFormValues | null;
  /** The incident form as posted, when it is shown again with an error. */
  incidentForm?: IncidentFormValues | null;
}): SafeHtml {
  const { locale } = o;
  return html`<h1 class="fr-mt-4w">${t(locale, 'console.title')}</h1>
<p>${t(locale, 'console.lead', { minutes: Math.round(STAFF_POLICY.stepUpMaxAge / 60) })}</p>
${o.notice ?? ''}
<h2>${t(locale, 'console.incidents.title')}</h2>
${incidentsTable(locale, o.incidents, o.now, o.timeZone)}
${openIncidentForm(o.request, o.reply, locale, o.incidentForm ?? null, o.now, o.timeZone)}
<h2 class="fr-mt-6w">${t(locale, 'console.access.title')}</h2>
<p>${t(locale, 'console.access.lead')}</p>
<div class="fr-grid-row fr-grid-row--gutters fr-mb-6w">
  ${ACCESS_SCOPES.map((s) => accessScope(o.request, o.reply, locale, o.access[s], o.timeZone, o.form, o.sessionsToEnd[s]))}
</div>`;
}

export const doneNotice = (locale: Locale, done: unknown): SafeHtml | null => {
  if (done === 'closed' || done === 'opened' || done === 'unchanged') return alert(done === 'unchanged' ? 'info' : 'success', t(locale, `console.done.${done}`));
  return null;
};
