import type { FastifyReply, FastifyRequest } from 'fastify';
import { wantsJson } from '../web/errors.ts';
import { html } from '../web/html.ts';
import { localeOf, t, type Locale } from '../web/i18n.ts';
import { page, sendPage } from '../web/layout.ts';
import type { SafeHtml } from '../web/html.ts';

/**
 * The page every citizen page answers while access is closed: 503 with Retry-After, in the
 * request's language with the other one below it (a citizen who lands here from a mail or a
 * bookmark may not find the language switch). Says nothing of why: that is for the operators.
 */
export function sendMaintenance(request: FastifyRequest, reply: FastifyReply, retryAfterSeconds: number): FastifyReply {
  reply.code(503).header('retry-after', String(retryAfterSeconds));
  if (wantsJson(request)) return reply.type('application/json; charset=utf-8').send(maintenanceJson(retryAfterSeconds));
  const locale = localeOf(request);
  return sendPage(reply, { request, locale, title: t(locale, 'maintenance.title'), main: maintenanceMain(locale), status: 503 });
}

/** The same answer as a body, for a response already on its way (a step refused by the flag itself). */
export function maintenanceBody(request: FastifyRequest, reply: FastifyReply, retryAfterSeconds: number): string {
  reply.header('retry-after', String(retryAfterSeconds));
  if (wantsJson(request)) {
    reply.type('application/json; charset=utf-8');
    return JSON.stringify(maintenanceJson(retryAfterSeconds));
  }
  const locale = localeOf(request);
  reply.type('text/html; charset=utf-8');
  return page({ request, locale, title: t(locale, 'maintenance.title'), main: maintenanceMain(locale) }).toString();
}

const maintenanceJson = (retryAfter: number): { error: string; retryAfter: number } => ({ error: 'maintenance', retryAfter });

function maintenanceMain(locale: Locale): SafeHtml {
  const other: Locale = locale === 'fr' ? 'en' : 'fr';
  return html`<div class="fr-my-7w fr-mt-md-12w fr-mb-md-10w fr-grid-row fr-grid-row--gutters fr-grid-row--center">
  <div class="fr-py-0 fr-col-12 fr-col-md-8" id="maintenance">
    <h1>${t(locale, 'maintenance.title')}</h1>
    <p class="fr-text--sm fr-mb-3w">${t(locale, 'error.code', { status: 503 })}</p>
    <p class="fr-text--lead fr-mb-3w">${t(locale, 'maintenance.lead')}</p>
    <p class="fr-mb-3w">${t(locale, 'maintenance.body')}</p>
    <p class="fr-text--sm fr-mb-5w">${t(locale, 'maintenance.safe')}</p>
    <div lang="${other}" class="fr-mt-5w" id="maintenance-${other}">
      <h2 class="fr-h4">${t(other, 'maintenance.title')}</h2>
      <p>${t(other, 'maintenance.lead')}</p>
      <p>${t(other, 'maintenance.body')}</p>
    </div>
  </div>
</div>`;
}
