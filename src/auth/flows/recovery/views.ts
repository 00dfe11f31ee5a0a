import type { FastifyReply, FastifyRequest } from 'fastify';
import { input } from '../../../web/forms.ts';
import type { SafeHtml } from '../../../web/html.ts';
import { t, type Locale } from '../../../web/i18n.ts';
import { startForm } from '../start-form-view.ts';

export interface RecoveryFormOptions {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  /** What was typed, given back on a format error. */
  nir?: string;
  error?: string;
  alert?: SafeHtml;
}

/** Step 1: the NIR only. */
export function recoveryForm(o: RecoveryFormOptions): SafeHtml {
  const { locale } = o;
  return startForm({
    request: o.request,
    reply: o.reply,
    title: t(locale, 'recovery.title'),
    feedback: o.alert,
    lead: t(locale, 'recovery.lead'),
    action: '/recover',
    method: 'email-code',
    fields: input({ id: 'nir', label: t(locale, 'login.nir'), hint: t(locale, 'login.nirHint'), value: o.nir, error: o.error, autocomplete: 'username', maxlength: 30, autofocus: !o.error && !o.alert }),
    submit: t(locale, 'recovery.submit'),
    links: [
      { href: '/activate', label: t(locale, 'recovery.toActivation') },
      { href: '/login', label: t(locale, 'recovery.toLogin') },
    ],
  });
}
