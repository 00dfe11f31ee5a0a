import type { KeyRing } from '../../crypto/keyring.ts';
import type { Tx } from '../../db/contexts.ts';
import { monthsOfQuarter, quarterId, type Quarter } from '../../file/procedures/dates.ts';
import { stillStands } from '../../file/procedures/catalogue.ts';
import { amountField, declarableQuarters, INCOME_FIELDS, INCOME_TYPES, incomeDeclarationOf, parseIncomeDeclaration } from '../../file/procedures/income-declaration.ts';
import { listProcedures } from '../../file/projections/procedures.ts';
import { alert } from '../../web/forms.ts';
import { html } from '../../web/html.ts';
import { t, type Locale } from '../../web/i18n.ts';
import { formatEuros, formatMonth } from '../payments/format.ts';
import type { ProcedureKindModule } from './kind.ts';
import { amountInput, errorText, select } from './widgets.ts';
import { table } from '../../web/table.ts';

/** "Déclaration trimestrielle de ressources": a quarter, then 4 kinds of income × 3 months. */

/** The quarters already declared by a procedure that still stands (not rejected, not cancelled). */
async function declaredQuarters(tx: Tx, ring: KeyRing, accountId: string): Promise<Set<string>> {
  const procedures = await listProcedures(tx, ring, accountId);
  const declared = new Set<string>();
  for (const p of procedures) {
    if (p.kind !== 'income-declaration' || !stillStands(p.status)) continue;
    const quarter = p.data.quarter;
    if (typeof quarter === 'string') declared.add(quarter);
  }
  return declared;
}

export function quarterLabel(locale: Locale, q: Quarter): string {
  const [first, , last] = monthsOfQuarter(q);
  return t(locale, 'procedures.income.quarterOption', { quarter: t(locale, `procedures.income.q${q.quarter}`), year: q.year, from: formatMonth(locale, first), to: formatMonth(locale, last) });
}

export const incomeDeclaration: ProcedureKindModule = {
  kind: 'income-declaration',
  fields: INCOME_FIELDS,
  initialStatus: 'submitted',

  async prepare(tx, ring, accountId, today) {
    const declared = await declaredQuarters(tx, ring, accountId);
    const open = declarableQuarters(today, declared);
    return {
      available: open.length > 0,
      parse: (values) => parseIncomeDeclaration(values, { today, declared }),
      fields({ locale, values, errors }) {
        if (open.length === 0) return alert('info', t(locale, 'procedures.income.noneLeft'));
        const err = (name: string): string | undefined => errorText(locale, errors, name);
        return html`<p>${t(locale, 'procedures.income.lead')}</p>
${select({
  id: 'quarter',
  label: t(locale, 'procedures.income.quarter'),
  hint: t(locale, 'procedures.income.quarterHint'),
  options: open.map((q) => ({ value: quarterId(q), label: quarterLabel(locale, q) })),
  value: values.quarter ?? '',
  error: err('quarter'),
  placeholder: t(locale, 'procedures.form.choose'),
})}
<p class="fr-hint-text fr-mt-4w" id="amount-hint">${t(locale, 'procedures.income.amountHint')}</p>
${INCOME_TYPES.map(
  (type) => html`<fieldset class="fr-fieldset" aria-labelledby="${type}-legend">
  <legend class="fr-fieldset__legend" id="${type}-legend">${t(locale, `procedures.income.type.${type}`)}</legend>
  ${[0, 1, 2].map((m) => {
    const name = amountField(type, m);
    return html`<div class="fr-fieldset__element fr-fieldset__element--inline">${amountInput({ id: name, label: t(locale, 'procedures.income.monthN', { n: m + 1 }), value: values[name] ?? '', error: err(name), hintId: 'amount-hint' })}</div>`;
  })}
</fieldset>`,
)}`;
      },
    };
  },

  describe(locale, procedure) {
    const d = incomeDeclarationOf(procedure.data);
    if (!d) return html``;
    const [year, q] = d.quarter.split('-Q');
    const quarter = { year: Number(year), quarter: Number(q) as Quarter['quarter'] };
    return html`<p id="procedure-quarter">${quarterLabel(locale, quarter)}</p>
${table({
  id: 'declared-income',
  caption: t(locale, 'procedures.detail.data'),
  hideCaption: true,
  headers: [t(locale, 'procedures.income.type'), ...d.months.map((m) => formatMonth(locale, m))],
  rows: [
    ...INCOME_TYPES.map((type) => html`<tr><th scope="row">${t(locale, `procedures.income.type.${type}`)}</th>${d.amounts[type].map((c) => html`<td>${formatEuros(locale, c)}</td>`)}</tr>`),
    html`<tr><th scope="row">${t(locale, 'procedures.income.total')}</th><td colspan="3" id="declared-total"><strong>${formatEuros(locale, d.totalCents)}</strong></td></tr>`,
  ],
})}`;
  },
};
