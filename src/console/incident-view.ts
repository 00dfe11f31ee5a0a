import { COHORT_CATEGORIES, type Cohort } from '../incident/cohort-store.ts';
import type { Incident, IncidentStep } from '../incident/incidents.ts';
import { formatDateTime } from '../time-format.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t, type Locale } from '../web/i18n.ts';
import { table } from '../web/table.ts';
import { timeLeft } from './dashboard-view.ts';

/** One incident: its timeline and its latest cohort's counts (never an account id). */
const summaryText = (s: IncidentStep): string =>
  Object.entries(s.summary)
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(' ');

export function incidentMain(o: { locale: Locale; incident: Incident; steps: readonly IncidentStep[]; cohort: Cohort | null; now: Date; timeZone: string }): SafeHtml {
  const { locale, incident, timeZone } = o;
  const at = (d: Date): string => formatDateTime(locale, d.toISOString(), timeZone);
  const timeline = table({
    id: 'timeline',
    caption: t(locale, 'console.incident.timeline'),
    headers: [t(locale, 'console.incident.at'), t(locale, 'console.incident.by'), t(locale, 'console.incident.step'), t(locale, 'console.incident.applied'), t(locale, 'console.incident.summary')],
    rows: o.steps.map(
      (s) => html`<tr><td>${at(s.at)}</td><td>${s.by}</td><td>${s.kind}</td><td>${t(locale, s.applied ? 'console.incident.yes' : 'console.incident.dryRun')}</td><td><code>${summaryText(s)}</code></td></tr>`,
    ),
  });
  let cohort: SafeHtml;
  if (!o.cohort) cohort = html`<p id="no-cohort">${t(locale, 'console.cohort.none')}</p>`;
  else {
    const members = o.cohort.members;
    const counts = COHORT_CATEGORIES.map((c) => ({ c, n: members.filter((m) => m.categories.includes(c)).length }));
    cohort = html`<p>${t(locale, 'console.cohort.window', { from: at(o.cohort.from), to: at(o.cohort.to), computedAt: at(o.cohort.computedAt), by: o.cohort.computedBy })}</p>
${table({
  id: 'cohort-counts',
  caption: t(locale, 'console.cohort.caption'),
  headers: [t(locale, 'console.cohort.category'), t(locale, 'console.cohort.accounts')],
  rows: [
    html`<tr><th scope="row">${t(locale, 'console.cohort.total')}</th><td id="cohort-total">${members.length}</td></tr>`,
    ...counts.map(({ c, n }) => html`<tr><th scope="row">${t(locale, `console.cohort.category.${c}`)}</th><td id="cohort-${c}">${n}</td></tr>`),
  ],
})}`;
  }
  return html`<p class="fr-mt-4w"><a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href="/console">${t(locale, 'console.back')}</a></p>
<h1>${incident.reference} — ${incident.title}</h1>
<ul>
  <li>${t(locale, 'console.incident.detectedAt', { at: at(incident.detectedAt) })}</li>
  <li>${t(locale, 'console.incident.openedAt', { at: at(incident.openedAt), by: incident.openedBy })}</li>
  <li>${incident.closedAt ? t(locale, 'console.incident.closedAt', { at: at(incident.closedAt) }) : timeLeft(locale, incident, o.now)}</li>
</ul>
<h2>${t(locale, 'console.incident.timeline')}</h2>
${timeline}
<h2 class="fr-mt-6w">${t(locale, 'console.cohort.title')}</h2>
${cohort}`;
}
