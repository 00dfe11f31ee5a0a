import { readAccount } from '../../accounts/accounts.ts';
import { ADDRESS_FIELDS, addressChangeOf, displayAddress, parseMoveDate } from '../../file/procedures/address-change.ts';
import type { FieldErrors, ProcedureError } from '../../file/procedures/form.ts';
import { input } from '../../web/forms.ts';
import { html } from '../../web/html.ts';
import { t } from '../../web/i18n.ts';
import { parseAddress, type AddressProblem } from '../contact/address.ts';
import { formatDay } from '../payments/format.ts';
import type { ProcedureKindModule } from './kind.ts';
import { errorText } from './widgets.ts';

/**
 * "Changement d'adresse": a French address, checked and stored by the contact page's own rules
 * (parseAddress: 38-character lines, the file's one-string layout), and the day of the move.
 */

const PROBLEM: Record<AddressProblem, ProcedureError> = {
  required: 'required',
  'too-long': 'too-long',
  characters: 'characters',
  'french-postcode': 'postal-code',
  postcode: 'postal-code',
};

export const addressChange: ProcedureKindModule = {
  kind: 'address-change',
  fields: ADDRESS_FIELDS,
  initialStatus: 'submitted',

  async prepare(tx, ring, accountId, today) {
    const current = (await readAccount(tx, ring, accountId))?.contact.postalAddress ?? null;
    return {
      available: true,
      parse(values) {
        const errors: FieldErrors = {};
        // A move declared here is within France: the country stays empty (France).
        const address = parseAddress({ street: values.street ?? '', complement: values.complement ?? '', postcode: values.postalCode ?? '', city: values.city ?? '', country: '' });
        if (!address.ok) {
          for (const [field, problem] of Object.entries(address.errors)) errors[field === 'postcode' ? 'postalCode' : field] = PROBLEM[problem];
        }
        const move = parseMoveDate(values.moveDate, today);
        if (!move.ok) errors.moveDate = move.error;
        if (!address.ok || !move.ok) return { ok: false, errors };
        // Filing the address the file already has would change nothing but add noise.
        if (address.value === current) return { ok: false, errors: { street: 'address-unchanged' } };
        const { form } = address;
        const data = { street: form.street, complement: form.complement || null, postalCode: form.postcode, city: form.city.toLocaleUpperCase('fr-FR'), moveDate: move.value };
        return { ok: true, data, newAddress: address.value };
      },
      fields({ locale, values, errors }) {
        const err = (name: string): string | undefined => errorText(locale, errors, name);
        return html`<p>${t(locale, 'procedures.address.lead')}</p>
<fieldset class="fr-fieldset" aria-labelledby="address-legend">
  <legend class="fr-fieldset__legend" id="address-legend">${t(locale, 'procedures.address.legend')}</legend>
  <div class="fr-fieldset__element">${input({ id: 'street', label: t(locale, 'procedures.address.street'), hint: t(locale, 'procedures.address.streetHint'), value: values.street, error: err('street'), autocomplete: 'address-line1', maxlength: 38, autofocus: true })}</div>
  <div class="fr-fieldset__element">${input({ id: 'complement', label: t(locale, 'procedures.address.complement'), hint: t(locale, 'procedures.address.complementHint'), value: values.complement, error: err('complement'), autocomplete: 'address-line2', maxlength: 38 })}</div>
  <div class="fr-fieldset__element fr-fieldset__element--inline">${input({ id: 'postalCode', label: t(locale, 'procedures.address.postalCode'), hint: t(locale, 'procedures.address.postalCodeHint'), value: values.postalCode, error: err('postalCode'), autocomplete: 'postal-code', inputmode: 'numeric', maxlength: 5 })}</div>
  <div class="fr-fieldset__element fr-fieldset__element--inline">${input({ id: 'city', label: t(locale, 'procedures.address.city'), value: values.city, error: err('city'), autocomplete: 'address-level2', maxlength: 38 })}</div>
</fieldset>
${input({ id: 'moveDate', type: 'date', label: t(locale, 'procedures.address.moveDate'), hint: t(locale, 'procedures.address.moveDateHint'), value: values.moveDate, error: err('moveDate') })}`;
      },
    };
  },

  describe(locale, procedure) {
    const d = addressChangeOf(procedure.data);
    if (!d) return html``;
    return html`<dl>
  <dt>${t(locale, 'procedures.address.newAddress')}</dt><dd id="procedure-address">${displayAddress(d)}</dd>
  <dt>${t(locale, 'procedures.address.moveDate')}</dt><dd>${formatDay(locale, d.moveDate)}</dd>
</dl>`;
  },
};
