import type { FastifyReply, FastifyRequest } from 'fastify';
import { formatDateTime } from '../../time-format.ts';
import { csrfField } from '../../web/csrf.ts';
import { alert, input } from '../../web/forms.ts';
import { html, raw, type SafeHtml } from '../../web/html.ts';
import { t, type Locale } from '../../web/i18n.ts';

export const ENROL_PATH = '/account/security/totp/new';
export const REGENERATE_PATH = '/account/security/recovery-codes';

export interface EnrolErrors {
  name?: string;
  code?: string;
}

const column = (content: SafeHtml): SafeHtml => html`<div class="fr-grid-row fr-my-7w">
  <div class="fr-col-12 fr-col-lg-8">
${content}
  </div>
</div>`;

/** The key grouped by four, as apps show it and people copy it. */
const grouped = (secret: string): string => secret.replace(/(.{4})(?=.)/g, '$1 ');

/**
 * "Ajouter une application d'authentification": the QR code (SVG made by us: `qrSvg` is the
 * qrcode package's output for our own URI, never request data), the key for manual entry,
 * then the name and the first code. What was typed is kept on error, but never the code.
 */
export function enrolPage(o: {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  qrSvg: string;
  secret: string;
  sealed: string;
  name?: string;
  errors?: EnrolErrors;
  /** Shown above everything: why the form was refused as a whole. */
  notice?: SafeHtml;
}): SafeHtml {
  const { locale } = o;
  const errors = o.errors ?? {};
  const svg = raw(o.qrSvg.replace('<svg ', '<svg width="200" height="200" aria-hidden="true" focusable="false" '));
  return column(html`<h1>${t(locale, 'totp.enrol.title')}</h1>
${o.notice ?? ''}
<p class="fr-text--lead">${t(locale, 'totp.enrol.lead')}</p>
<h2 class="fr-h4">${t(locale, 'totp.enrol.scan')}</h2>
<div class="fr-mb-2w" id="totp-qr" role="img" aria-label="${t(locale, 'totp.enrol.qrLabel')}">${svg}</div>
<p>${t(locale, 'totp.enrol.manual')}</p>
<p class="sesame-reference" id="totp-secret">${grouped(o.secret)}</p>
<h2 class="fr-h4 fr-mt-4w">${t(locale, 'totp.enrol.confirm')}</h2>
<form method="post" action="${ENROL_PATH}">
  ${csrfField(o.request, o.reply)}
  <input type="hidden" name="method" value="totp">
  <input type="hidden" name="pending" value="${o.sealed}">
  ${input({ id: 'name', label: t(locale, 'totp.enrol.name'), hint: t(locale, 'totp.enrol.nameHint'), value: o.name, maxlength: 60, error: errors.name, autocomplete: 'off' })}
  ${input({ id: 'code', label: t(locale, 'totp.enrol.code'), hint: t(locale, 'totp.enrol.codeHint'), autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: 12, error: errors.code })}
  <ul class="fr-btns-group fr-btns-group--inline-md">
    <li><button class="fr-btn" type="submit">${t(locale, 'totp.enrol.submit')}</button></li>
    <li><a class="fr-btn fr-btn--secondary" href="/account/security">${t(locale, 'totp.enrol.cancel')}</a></li>
  </ul>
</form>`);
}

export const enrolFailed = (locale: Locale): SafeHtml => alert('error', t(locale, 'totp.enrol.failed'), t(locale, 'totp.enrol.fix'));

/** The recovery codes, shown this once (the response is not cached: Cache-Control no-store everywhere). */
export function codesPage(o: {
  locale: Locale;
  timeZone: string;
  codes: readonly string[];
  /** Set after an enrolment: the app's name, and the end of its cooling-off if it has one. */
  added?: { name: string; coolingOffUntil: Date | null };
}): SafeHtml {
  const { locale } = o;
  const done = o.added ? t(locale, 'totp.codes.added', { name: o.added.name }) : t(locale, 'totp.codes.regenerated');
  const until = o.added?.coolingOffUntil;
  return column(html`<h1>${t(locale, 'totp.codes.title')}</h1>
${alert('success', done)}
${until ? alert('info', t(locale, 'totp.codes.coolingOff', { date: formatDateTime(locale, until.toISOString(), o.timeZone) })) : ''}
<p>${t(locale, 'totp.codes.lead')}</p>
${alert('warning', t(locale, 'totp.codes.once'))}
<ul id="recovery-codes" class="fr-mb-4w">
  ${o.codes.map((code) => html`<li><code class="sesame-reference">${code}</code></li>`)}
</ul>
<p><a class="fr-btn" href="/account/security">${t(locale, 'totp.codes.done')}</a></p>`);
}
