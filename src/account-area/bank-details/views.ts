import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BankDetailsView } from '../../file/projections/bank-details.ts';
import type { IbanProblem } from '../../file/iban.ts';
import { SEPA_IBAN_LENGTHS } from '../../file/iban.ts';
import { normaliseIban } from '../../file/catalogue.ts';
import { formatDateTime } from '../../time-format.ts';
import { csrfField } from '../../web/csrf.ts';
import { alert, input } from '../../web/forms.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { t, type Locale, type MessageKey } from '../../web/i18n.ts';
import type { BankForm, BankFormErrors, HolderProblem } from './form.ts';
import { HOLDER_MAX } from './form.ts';

export type BankNotice = 'changed' | 'cancelled';
export const isBankNotice = (v: unknown): v is BankNotice => v === 'changed' || v === 'cancelled';

const IBAN_PROBLEMS: Record<IbanProblem | 'required', MessageKey> = {
  required: 'bank.iban.required',
  format: 'bank.iban.format',
  country: 'bank.iban.country',
  length: 'bank.iban.length',
  checksum: 'bank.iban.checksum',
  'rib-key': 'bank.iban.ribKey',
};
const HOLDER_PROBLEMS: Record<HolderProblem, MessageKey> = { required: 'bank.holder.required', 'too-long': 'bank.holder.tooLong', characters: 'bank.holder.characters' };

export interface BankPage {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  timeZone: string;
  view: BankDetailsView | null;
  /** The hold, worded ("3 jours"). */
  hold: string;
  /** The change form's `shown` mark (contact/shown.ts). */
  shown: string;
  notice?: BankNotice;
  /** A refusal of the change or of the cancellation, above the part it is about. */
  changeAlert?: SafeHtml;
  cancelAlert?: SafeHtml;
  typed?: BankForm;
  errors?: BankFormErrors;
}

function ibanError(locale: Locale, problem: IbanProblem | 'required', typed: string | undefined): string {
  const length = SEPA_IBAN_LENGTHS[normaliseIban(typed ?? '').slice(0, 2)] ?? 0;
  return t(locale, IBAN_PROBLEMS[problem], { length });
}

function currentSection(o: BankPage): SafeHtml {
  const { locale, view } = o;
  if (!view) return html`<p id="bank-current">${t(locale, 'bank.none')}</p>`;
  // While held, the details in force for payments are the previous ones.
  const inForce = view.pending ? view.previous : view;
  if (!inForce) return html`<p id="bank-current">${t(locale, 'bank.none')}</p>`;
  return html`<div id="bank-current">
  <p><span class="fr-text--bold">${t(locale, 'bank.iban')}</span><br><span class="sesame-reference">${inForce.masked}</span></p>
  <p><span class="fr-text--bold">${t(locale, 'bank.holder')}</span><br>${inForce.holder}</p>
</div>`;
}

function pendingSection(o: BankPage): SafeHtml {
  const { locale, view } = o;
  if (!view?.pending || !view.effectiveAt || !view.changeEventId) return html``;
  const date = formatDateTime(locale, view.effectiveAt.toISOString(), o.timeZone);
  return html`<section class="fr-mb-7w" aria-labelledby="pending-title" id="bank-pending">
  <h2 id="pending-title">${t(locale, 'bank.pending.title')}</h2>
  ${o.cancelAlert ?? ''}
  <div class="fr-callout">
    <p class="fr-callout__text">${t(locale, 'bank.pending.body', { iban: view.masked, holder: view.holder, date })}</p>
    ${view.previous ? html`<p class="fr-callout__text">${t(locale, 'bank.pending.previous', { iban: view.previous.masked })}</p>` : ''}
    <p>${t(locale, 'bank.pending.why', { hold: o.hold })}</p>
  </div>
  <form method="post" action="/account/bank-details/cancel">
    ${csrfField(o.request, o.reply)}
    <input type="hidden" name="change" value="${view.changeEventId}">
    <button class="fr-btn fr-btn--secondary" type="submit">${t(locale, 'bank.cancel.submit')}</button>
  </form>
</section>`;
}

function changeSection(o: BankPage): SafeHtml {
  const { locale } = o;
  // One change at a time: while one is held, the form gives way to its cancellation.
  if (o.view?.pending) return html``;
  const errors = o.errors ?? {};
  return html`<section class="fr-mb-7w" aria-labelledby="change-title">
  <h2 id="change-title">${t(locale, 'bank.change.title')}</h2>
  ${o.cancelAlert ?? ''}
  ${o.changeAlert ?? ''}
  <p>${t(locale, 'bank.change.lead', { hold: o.hold })}</p>
  <p class="fr-hint-text">${t(locale, 'bank.change.sensitive')}</p>
  <form method="post" action="/account/bank-details" novalidate>
    ${csrfField(o.request, o.reply)}
    <input type="hidden" name="shown" value="${o.shown}">
    ${input({ id: 'iban', label: t(locale, 'bank.iban'), hint: t(locale, 'bank.ibanHint'), autocomplete: 'off', maxlength: 50, value: o.typed?.iban, error: errors.iban ? ibanError(locale, errors.iban, o.typed?.iban) : undefined })}
    ${input({ id: 'holder', label: t(locale, 'bank.holder'), hint: t(locale, 'bank.holderHint'), autocomplete: 'name', maxlength: HOLDER_MAX, value: o.typed?.holder, error: errors.holder ? t(locale, HOLDER_PROBLEMS[errors.holder]) : undefined })}
    <button class="fr-btn" type="submit">${t(locale, 'bank.change.submit')}</button>
  </form>
</section>`;
}

/** The body of /account/bank-details (its title is the page's h1). */
export function bankPage(o: BankPage): SafeHtml {
  const { locale, view } = o;
  const notice =
    o.notice === 'changed' && view?.effectiveAt
      ? alert('success', t(locale, 'bank.changed', { date: formatDateTime(locale, view.effectiveAt.toISOString(), o.timeZone) }))
      : o.notice === 'cancelled'
        ? alert('success', t(locale, 'bank.cancelled'))
        : '';
  return html`<p>${t(locale, 'bank.lead')}</p>
  ${notice}
  ${currentSection(o)}
  ${pendingSection(o)}
  ${changeSection(o)}`;
}
