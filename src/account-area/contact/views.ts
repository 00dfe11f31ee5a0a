import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Contact } from '../../accounts/accounts.ts';
import { csrfField } from '../../web/csrf.ts';
import { alert, input } from '../../web/forms.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { t, type Locale, type MessageKey } from '../../web/i18n.ts';
import { addressForm, type AddressErrors, type AddressField, type AddressForm, type AddressProblem, LINE_MAX } from './address.ts';
import { formatPhone, type PhoneProblem } from './phone.ts';
import type { EmailProblem } from './email-change.ts';

export type ContactNotice = 'email-changed' | 'phone-changed' | 'phone-removed' | 'address-changed';
const NOTICES: Record<ContactNotice, MessageKey> = {
  'email-changed': 'contact.email.changed',
  'phone-changed': 'contact.phone.changed',
  'phone-removed': 'contact.phone.removed',
  'address-changed': 'contact.address.changed',
};
export const isContactNotice = (v: unknown): v is ContactNotice => typeof v === 'string' && Object.hasOwn(NOTICES, v);

export const EMAIL_PROBLEMS: Record<EmailProblem, MessageKey> = { required: 'contact.email.required', invalid: 'contact.email.invalid', same: 'contact.email.same' };
export const PHONE_PROBLEMS: Record<PhoneProblem, MessageKey> = {
  format: 'contact.phone.format',
  'french-length': 'contact.phone.frenchLength',
  'international-length': 'contact.phone.internationalLength',
};
const ADDRESS_PROBLEMS: Record<AddressProblem, MessageKey> = {
  required: 'contact.address.required',
  'too-long': 'contact.address.tooLong',
  characters: 'contact.address.characters',
  'french-postcode': 'contact.address.frenchPostcode',
  postcode: 'contact.address.postcodeInvalid',
};

/** Which section a refusal is about: its alert is shown there, above its form. */
export type ContactSection = 'email' | 'phone' | 'address';

export interface ContactPage {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  contact: Contact;
  /** The `shown` marks of the phone and address forms (shown.ts). */
  shown: { phone: string; address: string };
  notice?: ContactNotice;
  /** A refusal, shown in its section. */
  refused?: { section: ContactSection; alert: SafeHtml };
  /** What was typed, given back after a refusal. */
  typed?: { email?: string; phone?: string; address?: AddressForm };
  errors?: { email?: EmailProblem; phone?: PhoneProblem; address?: AddressErrors };
}

function emailSection(o: ContactPage): SafeHtml {
  const { locale } = o;
  const problem = o.errors?.email;
  return html`<section class="fr-mb-7w" aria-labelledby="email-title">
  <h2 id="email-title">${t(locale, 'contact.email.title')}</h2>
  ${o.refused?.section === 'email' ? o.refused.alert : ''}
  <p><span class="fr-text--bold">${t(locale, 'contact.email.current')}</span><br><span id="current-email">${o.contact.email ?? t(locale, 'contact.notSet')}</span></p>
  <p>${t(locale, 'contact.email.lead')}</p>
  <p class="fr-hint-text">${t(locale, 'contact.email.sensitive')}</p>
  <form method="post" action="/account/contact/email" novalidate>
    ${csrfField(o.request, o.reply)}
    ${input({ id: 'email', label: t(locale, 'contact.email.new'), hint: t(locale, 'contact.email.hint'), type: 'email', autocomplete: 'email', inputmode: 'email', maxlength: 254, value: o.typed?.email, error: problem ? t(locale, EMAIL_PROBLEMS[problem]) : undefined })}
    <button class="fr-btn" type="submit">${t(locale, 'contact.email.submit')}</button>
  </form>
</section>`;
}

function phoneSection(o: ContactPage): SafeHtml {
  const { locale } = o;
  const problem = o.errors?.phone;
  const current = o.contact.phone ? formatPhone(o.contact.phone) : null;
  return html`<section class="fr-mb-7w" aria-labelledby="phone-title">
  <h2 id="phone-title">${t(locale, 'contact.phone.title')}</h2>
  ${o.refused?.section === 'phone' ? o.refused.alert : ''}
  <p id="current-phone">${current ?? t(locale, 'contact.notSet')}</p>
  <form method="post" action="/account/contact/phone" novalidate>
    ${csrfField(o.request, o.reply)}
    <input type="hidden" name="shown" value="${o.shown.phone}">
    ${input({ id: 'phone', label: t(locale, 'contact.phone.label'), hint: t(locale, 'contact.phone.hint'), autocomplete: 'tel', maxlength: 40, value: o.typed?.phone ?? current ?? undefined, error: problem ? t(locale, PHONE_PROBLEMS[problem]) : undefined })}
    <button class="fr-btn" type="submit">${t(locale, 'contact.phone.submit')}</button>
  </form>
</section>`;
}

const ADDRESS_FIELDS: readonly { id: AddressField; label: MessageKey; hint?: MessageKey; autocomplete: string }[] = [
  { id: 'street', label: 'contact.address.street', hint: 'contact.address.streetHint', autocomplete: 'address-line1' },
  { id: 'complement', label: 'contact.address.complement', hint: 'contact.address.complementHint', autocomplete: 'address-line2' },
  { id: 'postcode', label: 'contact.address.postcode', hint: 'contact.address.postcodeHint', autocomplete: 'postal-code' },
  { id: 'city', label: 'contact.address.city', autocomplete: 'address-level2' },
  { id: 'country', label: 'contact.address.country', hint: 'contact.address.countryHint', autocomplete: 'country-name' },
];

function addressSection(o: ContactPage): SafeHtml {
  const { locale } = o;
  const stored = o.contact.postalAddress;
  const values = o.typed?.address ?? addressForm(stored);
  const shownValues: AddressForm = { ...values, country: values.country === '' ? 'France' : values.country };
  const errors = o.errors?.address ?? {};
  return html`<section class="fr-mb-7w" aria-labelledby="address-title">
  <h2 id="address-title">${t(locale, 'contact.address.title')}</h2>
  ${o.refused?.section === 'address' ? o.refused.alert : ''}
  <p id="current-address">${stored ? stored.split('\n').map((line, i) => html`${i > 0 ? html`<br>` : ''}${line}`) : t(locale, 'contact.notSet')}</p>
  <form method="post" action="/account/contact/address" novalidate>
    ${csrfField(o.request, o.reply)}
    <input type="hidden" name="shown" value="${o.shown.address}">
    ${ADDRESS_FIELDS.map((f) => {
      const problem = errors[f.id];
      return input({
        id: f.id,
        label: t(locale, f.label),
        hint: f.hint ? t(locale, f.hint) : undefined,
        autocomplete: f.autocomplete,
        maxlength: f.id === 'postcode' ? 10 : LINE_MAX,
        value: shownValues[f.id] || undefined,
        error: problem ? t(locale, ADDRESS_PROBLEMS[problem], { max: LINE_MAX }) : undefined,
      });
    })}
    <button class="fr-btn" type="submit">${t(locale, 'contact.address.submit')}</button>
  </form>
</section>`;
}

/** The body of /account/contact (its title is the page's h1). */
export function contactPage(o: ContactPage): SafeHtml {
  const { locale } = o;
  return html`<p>${t(locale, 'contact.lead')}</p>
  ${o.notice ? alert('success', t(locale, NOTICES[o.notice])) : ''}
  ${emailSection(o)}
  ${phoneSection(o)}
  ${addressSection(o)}`;
}
