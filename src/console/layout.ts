import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfField } from '../web/csrf.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { localeOf, t } from '../web/i18n.ts';
import { sendPage } from '../web/layout.ts';
import type { StaffSession } from '../staff/sessions.ts';

/** A console page: the DSFR layout, who is logged in and the logout button above the content. */
export function sendConsolePage(
  request: FastifyRequest,
  reply: FastifyReply,
  o: { title: string; main: SafeHtml; session?: StaffSession | null; status?: number; scripts?: readonly string[] },
): FastifyReply {
  const locale = localeOf(request);
  const who = o.session
    ? html`<div class="fr-grid-row fr-grid-row--right fr-mt-2w" id="console-who">
  <p class="fr-mr-2w fr-mb-0">${t(locale, 'console.who', { name: o.session.displayName, login: o.session.login })}</p>
  <form method="post" action="/console/logout">${csrfField(request, reply)}<button class="fr-btn fr-btn--tertiary fr-btn--sm" type="submit">${t(locale, 'console.logout')}</button></form>
</div>`
    : '';
  return sendPage(reply, { request, locale, title: o.title, status: o.status, scripts: o.scripts, main: html`${who}${o.main}` });
}
