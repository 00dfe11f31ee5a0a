import type { FastifyReply, FastifyRequest } from 'fastify';
import { CSRF_FIELD, csrfField } from '../../web/csrf.ts';
import { html } from '../../web/html.ts';
import { localeOf, t } from '../../web/i18n.ts';
import { sendPage } from '../../web/layout.ts';

// Never kept: secrets typed in the form (they would sit in the database until the flow ends).
const SECRET = /password|passphrase|current|confirm|code|secret|pending|otp|pin|token/i;

/** Fields kept from a form posted before a step-up: not the CSRF token (a fresh one is issued), not secrets. */
export function formToKeep(request: FastifyRequest): Record<string, string> {
  const body = request.body;
  if (typeof body !== 'object' || body === null) return {};
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (name !== CSRF_FIELD && !SECRET.test(name) && typeof value === 'string' && /^[a-zA-Z][a-zA-Z0-9_-]{0,39}$/.test(name)) kept[name] = value.slice(0, 4000);
  }
  return kept;
}

/**
 * Back where the citizen was, with what they had submitted: the form again, filled, and one
 * button to send it (a script sends it at once where scripts run). Nothing typed is lost, and
 * nothing is applied without a fresh CSRF token from this browser.
 */
export function sendKeptForm(request: FastifyRequest, reply: FastifyReply, action: string, fields: Record<string, string>): FastifyReply {
  const locale = localeOf(request);
  const main = html`<div class="fr-grid-row fr-grid-row--center fr-my-7w"><div class="fr-col-12 fr-col-md-8">
  <h1>${t(locale, 'stepUp.continue.title')}</h1>
  <p>${t(locale, 'stepUp.continue.body')}</p>
  <form method="post" action="${action}" id="kept-form" data-autosubmit>
    ${csrfField(request, reply)}
    ${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
    <button class="fr-btn" type="submit">${t(locale, 'stepUp.continue.submit')}</button>
  </form>
</div></div>`;
  return sendPage(reply, { request, locale, title: t(locale, 'stepUp.continue.title'), main, scripts: ['autosubmit.js'] });
}
