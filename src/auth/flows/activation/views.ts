import type { FastifyReply, FastifyRequest } from 'fastify';
import { input } from '../../../web/forms.ts';
import type { SafeHtml } from '../../../web/html.ts';
import { t, type Locale } from '../../../web/i18n.ts';
import { fieldset, startForm } from '../start-form-view.ts';

export interface ActivationFormOptions {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  /** What was typed, given back on a format error. */
  nir?: string;
  birthDate?: string;
  errors?: { nir?: string; birthDate?: string };
  alert?: SafeHtml;
}

/** Step 1: NIR and birth date. A date picker where the browser has one, DD/MM/YYYY by hand elsewhere. */
export function activationForm(o: ActivationFormOptions): SafeHtml {
  const { locale } = o;
  const errors = o.errors ?? {};
  return startForm({
    request: o.request,
    reply: o.reply,
    title: t(locale, 'activation.title'),
    feedback: o.alert,
    lead: t(locale, 'activation.lead'),
    action: '/activate',
    method: 'email-code',
    fields: fieldset(
      input({ id: 'nir', label: t(locale, 'login.nir'), hint: t(locale, 'login.nirHint'), value: o.nir, error: errors.nir, autocomplete: 'username', maxlength: 30, autofocus: !errors.nir && !errors.birthDate && !o.alert }),
      input({ id: 'birthDate', label: t(locale, 'activation.birthDate'), hint: t(locale, 'activation.birthDateHint'), type: 'date', value: o.birthDate, error: errors.birthDate, autocomplete: 'bday' }),
    ),
    submit: t(locale, 'activation.submit'),
    links: [{ href: '/login', label: t(locale, 'activation.toLogin') }],
  });
}
