import type { FastifyInstance } from 'fastify';
import { authenticatorKinds } from '../../auth/authenticators.ts';
import { ensureSensitive } from '../../auth/sensitive.ts';
import { audit } from '../../audit/log.ts';
import { localDate } from '../../file/procedures/dates.ts';
import { carries, citizenRequest } from '../../isolation/citizen-request.ts';
import { csrfField } from '../../web/csrf.ts';
import { html } from '../../web/html.ts';
import { localeOf, t } from '../../web/i18n.ts';
import type { AccountDeps } from '../account-deps.ts';
import { sendAccountPage } from '../account-page.ts';
import { buildExport } from './build.ts';

const PAGE = '/account/export';

/**
 * "Mes données": the right of access. The page explains; its form (POST, CSRF) downloads the
 * whole file in clear as JSON. That is the most a stolen session could take at once, so it is
 * a sensitive operation: a step-up first unless one was done in the last minutes, after which
 * the kept form comes back and the download proceeds.
 */
export async function exportRoutes(app: FastifyInstance, deps: AccountDeps): Promise<void> {
  app.get(PAGE, async (request, reply) => {
    const strong = await citizenRequest(deps, request, (tx, session) => authenticatorKinds(tx, session.accountId));
    const locale = localeOf(request);
    const items = ['identity', 'contact', 'bank', 'procedures', 'payments', 'events', 'security'] as const;
    const main = html`<p class="fr-text--lead">${t(locale, 'export.lead')}</p>
<h2>${t(locale, 'export.what.title')}</h2>
<ul>${items.map((item) => html`<li>${t(locale, `export.what.${item}`)}</li>`)}</ul>
<p>${t(locale, 'export.format')}</p>
${
  strong.size === 0
    ? html`<div class="fr-alert fr-alert--info fr-mb-4w" id="export-needs-strong">
  <h2 class="fr-alert__title">${t(locale, 'export.noStrong.title')}</h2>
  <p>${t(locale, 'export.noStrong.body')}</p>
  <p><a class="fr-link" href="/account/security#strong-title">${t(locale, 'strong.enrol')}</a></p>
</div>`
    : html`<p class="fr-hint-text">${t(locale, 'export.stepUp')}</p>
<form method="post" action="${PAGE}" id="export-form">
  ${csrfField(request, reply)}
  <button class="fr-btn fr-icon-download-line fr-btn--icon-left" type="submit">${t(locale, 'export.submit')}</button>
</form>`
}`;
    return sendAccountPage(reply, { request, title: t(locale, 'export.title'), current: 'export', main });
  });

  app.post(PAGE, async (request, reply) => {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    // After the step-up, the kept (empty) form is posted here again and the download proceeds.
    if (!(await ensureSensitive(deps, request, reply, session, PAGE))) return reply;
    const built = await citizenRequest(deps, request, async (tx, s) => {
      const result = await buildExport(tx, deps, s.accountId);
      if (result) {
        const { doc } = result;
        await audit(tx, deps.clock, {
          type: 'file.exported',
          accountId: s.accountId,
          requestId: request.id,
          payload: { sessionId: s.id, events: doc.fileEvents.length, procedures: doc.procedures.length, payments: doc.payments.length },
        });
      }
      return result;
    });
    if (!built) return reply.redirect('/login', 303);
    carries(request, ...built.accountIds);
    // No personal data in the file name: it ends up in download folders and browser histories.
    const filename = `sesame-export-${localDate(deps.clock.now(), deps.timeZone)}.json`;
    return reply
      .header('content-disposition', `attachment; filename="${filename}"`)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(`${JSON.stringify(built.doc, null, 2)}\n`);
  });
}
