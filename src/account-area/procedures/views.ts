import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROCEDURE_KINDS } from '../../file/catalogue.ts';
import { localDate } from '../../file/procedures/dates.ts';
import type { ProcedureView } from '../../file/projections/procedures.ts';
import { formatDateTime } from '../../time-format.ts';
import { csrfField } from '../../web/csrf.ts';
import { alert } from '../../web/forms.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { tile } from '../../web/tile.ts';
import { t, type Locale } from '../../web/i18n.ts';
import { formatDay } from '../payments/format.ts';
import type { PreparedForm, ProcedureKindModule } from './kind.ts';
import type { FieldErrors, FormValues } from '../../file/procedures/form.ts';
import { formErrorAlert, statusBadge } from './widgets.ts';
import { table } from '../../web/table.ts';

/** The procedure pages' content (the page itself, menu and <h1>, is sendAccountPage's). */

export const PROCEDURES = '/account/procedures';

/** The day a procedure was sent, in the site's time zone. */
export const submittedOn = (locale: Locale, p: Pick<ProcedureView, 'submittedAt'>, timeZone: string): string => formatDay(locale, localDate(new Date(p.submittedAt), timeZone));

function catalogue(locale: Locale): SafeHtml {
  return html`<section class="fr-mb-7w" aria-labelledby="catalogue-title">
  <h2 id="catalogue-title">${t(locale, 'procedures.catalogue.title')}</h2>
  <div class="fr-grid-row fr-grid-row--gutters">
    ${PROCEDURE_KINDS.map((kind) => tile({ href: `${PROCEDURES}/new/${kind}`, title: t(locale, `procedures.start.${kind}`), detail: t(locale, `procedures.about.${kind}`) }))}
  </div>
</section>`;
}

export function proceduresTable(locale: Locale, procedures: readonly ProcedureView[], timeZone: string, id = 'procedures'): SafeHtml {
  return table({
    id,
    caption: t(locale, 'procedures.list.caption'),
    hideCaption: true,
    headers: [t(locale, 'procedures.list.reference'), t(locale, 'procedures.list.kind'), t(locale, 'procedures.list.submittedAt'), t(locale, 'procedures.list.status')],
    rows: procedures.map(
      (p) => html`<tr>
      <td><a class="fr-link" href="${PROCEDURES}/${p.id}">${p.reference}</a></td>
      <td>${t(locale, `procedures.kind.${p.kind}`)}</td>
      <td>${submittedOn(locale, p, timeZone)}</td>
      <td>${statusBadge(locale, p.status)}</td>
    </tr>`,
    ),
  });
}

export function listPage(locale: Locale, procedures: readonly ProcedureView[], timeZone: string): SafeHtml {
  return html`<p class="fr-text--lead">${t(locale, 'procedures.lead')}</p>
${catalogue(locale)}
<section aria-labelledby="list-title">
  <h2 id="list-title">${t(locale, 'procedures.list.title')}</h2>
  ${procedures.length === 0 ? html`<p id="no-procedures">${t(locale, 'procedures.list.none')}</p>` : proceduresTable(locale, procedures, timeZone)}
</section>`;
}

const back = (locale: Locale, href: string, label: string): SafeHtml =>
  html`<p class="fr-mt-5w"><a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href="${href}">${label}</a></p>`;

export function formPage(o: {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  module: ProcedureKindModule;
  form: PreparedForm;
  values: FormValues;
  errors: FieldErrors;
}): SafeHtml {
  const { locale, module, form } = o;
  const failed = Object.keys(o.errors).length > 0;
  const fields = form.fields({ request: o.request, reply: o.reply, locale, values: o.values, errors: o.errors });
  return html`${failed ? formErrorAlert(locale) : ''}
${
  form.available
    ? html`<p class="fr-hint-text">${t(locale, 'procedures.form.required')}</p>
<form method="post" action="${PROCEDURES}/new/${module.kind}" id="procedure-form" novalidate>
  ${csrfField(o.request, o.reply)}
  ${fields}
  <button class="fr-btn fr-mt-3w" type="submit">${t(locale, 'procedures.form.submit')}</button>
</form>`
    : fields
}
${back(locale, PROCEDURES, t(locale, 'procedures.form.back'))}`;
}

export function detailPage(o: { locale: Locale; procedure: ProcedureView; module: ProcedureKindModule; timeZone: string; justSubmitted: boolean }): SafeHtml {
  const { locale, procedure: p } = o;
  return html`${o.justSubmitted ? alert('success', t(locale, 'procedures.detail.submitted'), t(locale, 'procedures.detail.submittedBody', { reference: p.reference })) : ''}
<dl id="procedure-facts">
  <dt>${t(locale, 'procedures.detail.kind')}</dt><dd>${t(locale, `procedures.kind.${p.kind}`)}</dd>
  <dt>${t(locale, 'procedures.detail.reference')}</dt><dd><span class="sesame-reference" id="procedure-reference">${p.reference}</span></dd>
  <dt>${t(locale, 'procedures.detail.submittedAt')}</dt><dd>${formatDateTime(locale, p.submittedAt, o.timeZone)}</dd>
  <dt>${t(locale, 'procedures.detail.status')}</dt><dd id="procedure-status">${statusBadge(locale, p.status)}${
    p.status === 'cancelled' && p.incident ? html`<p class="fr-text--sm fr-mt-1w fr-mb-0" id="procedure-incident">${t(locale, 'procedures.detail.cancelledForIncident', { incident: p.incident })}</p>` : ''
  }</dd>
  ${p.updatedAt.toISOString() !== new Date(p.submittedAt).toISOString() ? html`<dt>${t(locale, 'procedures.detail.updatedAt')}</dt><dd>${formatDateTime(locale, p.updatedAt.toISOString(), o.timeZone)}</dd>` : ''}
</dl>
${p.note ? html`<div class="fr-callout fr-mb-4w" id="procedure-note"><h2 class="fr-callout__title">${t(locale, 'procedures.detail.note')}</h2><p class="fr-callout__text">${p.note}</p></div>` : ''}
<section aria-labelledby="data-title">
  <h2 id="data-title">${t(locale, 'procedures.detail.data')}</h2>
  ${o.module.describe(locale, p)}
</section>
${back(locale, PROCEDURES, t(locale, 'procedures.form.back'))}`;
}
