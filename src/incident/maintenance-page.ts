import type { FastifyReply, FastifyRequest } from 'fastify';
import { wantsJson } from '../web/errors.ts';
import { html } from '../web/html.ts';
import { localeOf, t, type Locale } from '../web/i18n.ts';
import { page, sendPage } from '../web/layout.ts';
import type { SafeHtml } from '../web/html.ts';
import type { AccessState } from './access.ts';

/**
 * The page a closed scope answers: 503 with Retry-After, in both languages (a citizen who lands
 * here from a mail or a bookmark may not find the language switch): the request's first for
 * citizens, French first for the console. The operators' message, when they gave one, replaces
 * the default body; it is plain text, escaped like any value. The reason is never shown.
 */
export function sendMaintenance(request: FastifyRequest, reply: FastifyReply, state: AccessState, retryAfterSeconds: number): FastifyReply {
  reply.code(503).header('retry-after', String(retryAfterSeconds));
  if (wantsJson(request)) return reply.type('application/json; charset=utf-8').send(maintenanceJson(retryAfterSeconds));
  const locale = localeFor(request, state);
  return sendPage(reply, { request, locale, title: t(locale, 'maintenance.title'), main: maintenanceMain(locale, state), status: 503 });
}

/** The same answer as a body, for a response already on its way (a step refused by the flag itself). */
export function maintenanceBody(request: FastifyRequest, reply: FastifyReply, state: AccessState, retryAfterSeconds: number): string {
  reply.header('retry-after', String(retryAfterSeconds));
  if (wantsJson(request)) {
    reply.type('application/json; charset=utf-8');
    return JSON.stringify(maintenanceJson(retryAfterSeconds));
  }
  const locale = localeFor(request, state);
  reply.type('text/html; charset=utf-8');
  return page({ request, locale, title: t(locale, 'maintenance.title'), main: maintenanceMain(locale, state) }).toString();
}

const maintenanceJson = (retryAfter: number): { error: string; retryAfter: number } => ({ error: 'maintenance', retryAfter });

const localeFor = (request: FastifyRequest, state: AccessState): Locale => (state.scope === 'staff' ? 'fr' : localeOf(request));

function maintenanceMain(locale: Locale, state: AccessState): SafeHtml {
  const other: Locale = locale === 'fr' ? 'en' : 'fr';
  const staff = state.scope === 'staff';
  const lead = (l: Locale): string => t(l, staff ? 'maintenance.staff.lead' : 'maintenance.lead');
  const body = (l: Locale): string => state.messages?.[l] ?? t(l, staff ? 'maintenance.staff.body' : 'maintenance.body');
  return html`<div class="fr-my-7w fr-mt-md-12w fr-mb-md-10w fr-grid-row fr-grid-row--gutters fr-grid-row--center">
  <div class="fr-py-0 fr-col-12 fr-col-md-8" id="maintenance">
    <h1>${t(locale, 'maintenance.title')}</h1>
    <p class="fr-text--sm fr-mb-3w">${t(locale, 'error.code', { status: 503 })}</p>
    <p class="fr-text--lead fr-mb-3w">${lead(locale)}</p>
    <p class="fr-mb-3w" id="maintenance-message">${body(locale)}</p>
    ${staff ? '' : html`<p class="fr-text--sm fr-mb-5w">${t(locale, 'maintenance.safe')}</p>`}
    <div lang="${other}" class="fr-mt-5w" id="maintenance-${other}">
      <h2 class="fr-h4">${t(other, 'maintenance.title')}</h2>
      <p>${lead(other)}</p>
      <p id="maintenance-message-${other}">${body(other)}</p>
    </div>
  </div>
</div>`;
}
