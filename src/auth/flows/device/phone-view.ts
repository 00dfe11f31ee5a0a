import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfField } from '../../../web/csrf.ts';
import { alert, input, narrow } from '../../../web/forms.ts';
import { html, type SafeHtml } from '../../../web/html.ts';
import { t, type Locale } from '../../../web/i18n.ts';
import { sendPage } from '../../../web/layout.ts';

/**
 * The phone's page, /device. Whether this browser is a registered device only its script
 * knows (the key is in IndexedDB): the page carries both states, hidden, and device.js shows
 * one. Every text the script shows is rendered here, in the page's language (templates and
 * data attributes), so the script holds no wording.
 */
export interface PhonePageOptions {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  /** Logged in on this phone: the registration form is offered. */
  loggedIn: boolean;
  registered?: boolean;
  error?: string;
  name?: string;
  status?: number;
}

function registerForm(o: PhonePageOptions): SafeHtml {
  const { locale } = o;
  if (!o.loggedIn) {
    return html`<p>${t(locale, 'device.unregistered.login')}</p>
<p><a class="fr-btn" href="/login">${t(locale, 'device.loginLink')}</a></p>`;
  }
  return html`<form method="post" action="/device" id="device-register">
  ${csrfField(o.request, o.reply)}
  <input type="hidden" name="method" value="device-approval">
  <input type="hidden" name="publicKey" value="">
  ${input({ id: 'name', label: t(locale, 'device.register.name'), hint: t(locale, 'device.register.nameHint'), value: o.name, maxlength: 60, autocomplete: 'off' })}
  <p class="fr-error-text" id="device-unsupported" hidden>${t(locale, 'device.register.unsupported')}</p>
  <button class="fr-btn" type="submit">${t(locale, 'device.register.submit')}</button>
</form>`;
}

/** One pending request, filled by device.js (textContent only). */
function requestTemplate(locale: Locale): SafeHtml {
  return html`<template id="device-request-template">
  <div class="fr-callout fr-mb-4w" data-request>
    <h3 class="fr-callout__title">${t(locale, 'device.request.title')}</h3>
    <dl class="fr-mb-2w">
      <dt class="fr-text--bold">${t(locale, 'device.request.service')}</dt><dd data-field="service"></dd>
      <dt class="fr-text--bold">${t(locale, 'device.request.time')}</dt><dd data-field="time"></dd>
      <dt class="fr-text--bold">${t(locale, 'device.request.browser')}</dt><dd data-field="browser"></dd>
      <dt class="fr-text--bold">${t(locale, 'device.request.place')}</dt><dd data-field="place">${t(locale, 'device.request.placeUnknown')}</dd>
      <dt class="fr-text--bold">${t(locale, 'device.request.expires')}</dt><dd data-field="expires"></dd>
    </dl>
    <p>${t(locale, 'device.request.pick')}</p>
    <ul class="fr-btns-group fr-btns-group--inline fr-btns-group--lg" aria-label="${t(locale, 'device.request.numbers')}">
      <li><button class="fr-btn fr-btn--lg" type="button" data-number></button></li>
      <li><button class="fr-btn fr-btn--lg" type="button" data-number></button></li>
      <li><button class="fr-btn fr-btn--lg" type="button" data-number></button></li>
    </ul>
    <button class="fr-btn fr-btn--secondary fr-btn--icon-left fr-icon-close-line" type="button" data-deny>${t(locale, 'device.request.deny')}</button>
  </div>
</template>
${refusedTemplate(locale, 'denied')}
${refusedTemplate(locale, 'mismatch')}`;
}

/** After a denial or a wrong number (both end the login): what happened, and « Mettre fin à toutes les sessions ». */
function refusedTemplate(locale: Locale, result: 'denied' | 'mismatch'): SafeHtml {
  const [title, body] = result === 'denied' ? (['device.result.deniedTitle', 'device.result.denied'] as const) : (['device.result.mismatchTitle', 'device.result.mismatch'] as const);
  return html`<template id="device-${result}-template">
  <div class="fr-alert fr-alert--warning fr-mb-4w" data-refused>
    <h3 class="fr-alert__title">${t(locale, title)}</h3>
    <p>${t(locale, body)}</p>
    <button class="fr-btn fr-mt-2w" type="button" data-end-sessions>${t(locale, 'device.endSessions')}</button>
  </div>
</template>`;
}

export function phonePage(o: PhonePageOptions): SafeHtml {
  const { locale } = o;
  return narrow(html`<h1>${t(locale, 'device.title')}</h1>
${o.registered ? alert('success', t(locale, 'device.register.done')) : ''}
${o.error ? alert('error', t(locale, 'device.register.failed'), o.error) : ''}
<p>${t(locale, 'device.lead')}</p>
<noscript>${alert('warning', t(locale, 'device.noscript'))}</noscript>
<p id="device-checking">${t(locale, 'device.checking')}</p>
<section id="device-unregistered" aria-labelledby="device-unregistered-title" hidden>
  <h2 id="device-unregistered-title">${t(locale, 'device.unregistered.title')}</h2>
  <p>${t(locale, 'device.unregistered.body')}</p>
  ${registerForm(o)}
</section>
<section id="device-registered" aria-labelledby="device-registered-title" hidden>
  <h2 id="device-registered-title">${t(locale, 'device.registered.title')}</h2>
  <p>${t(locale, 'device.registered.body')}</p>
  <div id="device-status" role="status" aria-live="polite"></div>
  <div id="device-requests" aria-live="polite"><p data-none>${t(locale, 'device.requests.none')}</p></div>
</section>
<div id="device-messages" hidden
  data-approved="${t(locale, 'device.result.approved')}"
  data-expired="${t(locale, 'device.result.expired')}"
  data-gone="${t(locale, 'device.result.gone')}"
  data-ended="${t(locale, 'device.endSessions.done')}"
  data-error="${t(locale, 'device.error')}"></div>
${requestTemplate(locale)}`);
}

export function sendPhonePage(o: PhonePageOptions): FastifyReply {
  return sendPage(o.reply, { request: o.request, locale: o.locale, title: t(o.locale, 'device.title'), main: phonePage(o), scripts: ['device.js'], status: o.status });
}
