/**
 * The postal address as a form (street, complement, postal code, city, country) and as the
 * file stores it: one string, its lines joined by a newline, in the order of a French postal
 * address (NF Z10-011): street, complement, "POSTCODE CITY", and the country when not France.
 * Lines are at most 38 characters, what La Poste prints on one line.
 */

export interface AddressForm {
  street: string;
  complement: string;
  postcode: string;
  city: string;
  /** Empty or "France" for France. */
  country: string;
}

export type AddressField = keyof AddressForm;
export type AddressProblem = 'required' | 'too-long' | 'characters' | 'french-postcode' | 'postcode';
export type AddressErrors = Partial<Record<AddressField, AddressProblem>>;

export const LINE_MAX = 38;

// Letters of any language, digits, and the punctuation addresses use ("12 bis, rue de l’Église", "B.P. 5", "Bât. C/2", "3°").
const LINE = /^[\p{L}\p{M}\p{N} '’,.\/°#&()-]+$/u;
const FOREIGN_POSTCODE = /^[A-Z0-9][A-Z0-9 -]{1,9}$/;
// Five digits; no département starts with 00.
const FRENCH_POSTCODE = /^(?!00)[0-9]{5}$/;

const clean = (s: string): string => s.normalize('NFC').replace(/\s+/g, ' ').trim();
export const isFrance = (country: string): boolean => country === '' || /^france$/i.test(country);

function line(value: string, required: boolean): AddressProblem | null {
  if (value === '') return required ? 'required' : null;
  if (value.length > LINE_MAX) return 'too-long';
  return LINE.test(value) ? null : 'characters';
}

/** The form, checked: the stored string, or each field's problem. */
export function parseAddress(raw: AddressForm): { ok: true; value: string; form: AddressForm } | { ok: false; errors: AddressErrors } {
  const form: AddressForm = {
    street: clean(raw.street),
    complement: clean(raw.complement),
    postcode: clean(raw.postcode).toUpperCase(),
    city: clean(raw.city),
    country: clean(raw.country),
  };
  const france = isFrance(form.country);
  const errors: AddressErrors = {};
  const street = line(form.street, true);
  if (street) errors.street = street;
  const complement = line(form.complement, false);
  if (complement) errors.complement = complement;
  const city = line(form.city, true);
  if (city) errors.city = city;
  if (!france) {
    const country = line(form.country, true);
    if (country) errors.country = country;
  }
  if (form.postcode === '') errors.postcode = 'required';
  else if (france && !FRENCH_POSTCODE.test(form.postcode)) errors.postcode = 'french-postcode';
  else if (!france && !FOREIGN_POSTCODE.test(form.postcode)) errors.postcode = 'postcode';
  // The last line is "POSTCODE CITY": together within one printed line.
  if (!errors.postcode && !errors.city && form.postcode.length + 1 + form.city.length > LINE_MAX) errors.city = 'too-long';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const lines = [form.street, form.complement, `${form.postcode} ${form.city.toLocaleUpperCase('fr-FR')}`, france ? '' : form.country.toLocaleUpperCase('fr-FR')];
  return { ok: true, value: lines.filter((l) => l !== '').join('\n'), form };
}

const LAST_LINE = /^([A-Z0-9][A-Z0-9 -]{1,9}?) (\S.*)$/;

/**
 * A stored address back into the form's fields, to pre-fill it. Addresses imported from the
 * agency may be written otherwise: then the lines go to the street and complement fields as
 * well as they fit, and the citizen corrects the rest.
 */
export function addressForm(stored: string | null): AddressForm {
  const empty: AddressForm = { street: '', complement: '', postcode: '', city: '', country: '' };
  if (!stored) return empty;
  // One-line addresses ("12 rue X, 93100 MONTREUIL") are split before their postal code.
  const lines = stored.split(/\n|,\s*(?=[0-9]{5} )/).map(clean).filter((l) => l !== '');
  let country = '';
  let last = lines.at(-1) ?? '';
  let cityLine = LAST_LINE.exec(last);
  const frenchLast = cityLine !== null && FRENCH_POSTCODE.test(cityLine[1] ?? '');
  if (!frenchLast && lines.length >= 2 && LAST_LINE.test(lines.at(-2) ?? '')) {
    country = last;
    lines.pop();
    last = lines.at(-1) ?? '';
    cityLine = LAST_LINE.exec(last);
  }
  if (!cityLine) return { ...empty, street: lines[0] ?? '', complement: lines.slice(1).join(', ') };
  lines.pop();
  return { street: lines[0] ?? '', complement: lines.slice(1).join(', '), postcode: cityLine[1] ?? '', city: cityLine[2] ?? '', country };
}
