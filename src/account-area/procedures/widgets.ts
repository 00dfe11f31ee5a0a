import type { ProcedureStatus } from '../../file/catalogue.ts';
import type { FieldErrors } from '../../file/procedures/form.ts';
import { alert } from '../../web/forms.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { t, type Locale } from '../../web/i18n.ts';

/** DSFR pieces the procedure pages share: a select, an amount box, a status badge, a table. */

/** The message for a field's error code, in the page's language. */
export function errorText(locale: Locale, errors: FieldErrors, name: string): string | undefined {
  const code = errors[name];
  return code ? t(locale, `procedures.error.${code}`) : undefined;
}

function messages(id: string, error: string | undefined): SafeHtml {
  return html`<div class="fr-messages-group" id="${id}-messages" aria-live="polite">${error ? html`<p class="fr-message fr-message--error">${error}</p>` : ''}</div>`;
}

export interface SelectOptions {
  id: string;
  label: string;
  hint?: string;
  options: readonly { value: string; label: string }[];
  value: string;
  error?: string;
  placeholder: string;
}

export function select(o: SelectOptions): SafeHtml {
  const chosen = o.options.some((opt) => opt.value === o.value);
  return html`<div class="fr-select-group${o.error ? ' fr-select-group--error' : ''}">
  <label class="fr-label" for="${o.id}">${o.label}${o.hint ? html`<span class="fr-hint-text">${o.hint}</span>` : ''}</label>
  <select class="fr-select${o.error ? ' fr-select--error' : ''}" id="${o.id}" name="${o.id}" aria-describedby="${o.id}-messages">
    <option value=""${chosen ? '' : html` selected`} disabled>${o.placeholder}</option>
    ${o.options.map((opt) => html`<option value="${opt.value}"${opt.value === o.value ? html` selected` : ''}>${opt.label}</option>`)}
  </select>
  ${messages(o.id, o.error)}
</div>`;
}

/** An amount in euros: a text box with the decimal keypad on phones (type=number would drop "1 234,56"). */
export function amountInput(o: { id: string; label: string; value: string; error?: string; hintId: string }): SafeHtml {
  return html`<div class="fr-input-group${o.error ? ' fr-input-group--error' : ''}">
  <label class="fr-label" for="${o.id}">${o.label}</label>
  <input class="fr-input${o.error ? ' fr-input--error' : ''}" id="${o.id}" name="${o.id}" type="text" inputmode="decimal" autocomplete="off" maxlength="20"${o.value ? html` value="${o.value}"` : ''} aria-describedby="${o.hintId} ${o.id}-messages">
  ${messages(o.id, o.error)}
</div>`;
}

const BADGE: Record<ProcedureStatus, string> = {
  submitted: 'fr-badge--info',
  'in-review': 'fr-badge--new',
  accepted: 'fr-badge--success',
  rejected: 'fr-badge--error',
  cancelled: '',
};

export function statusBadge(locale: Locale, status: ProcedureStatus): SafeHtml {
  return html`<p class="fr-badge fr-badge--sm ${BADGE[status]} fr-badge--no-icon" data-status="${status}">${t(locale, `procedures.status.${status}`)}</p>`;
}

/** The alert above a form sent back with errors. */
export const formErrorAlert = (locale: Locale): SafeHtml => alert('error', t(locale, 'procedures.form.errorTitle'), t(locale, 'procedures.form.errorBody'));
