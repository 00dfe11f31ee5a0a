import type { FastifyInstance } from 'fastify';
import { html } from '../html.ts';
import { localeOf, t, type MessageKey } from '../i18n.ts';
import { sendPage, siteOf } from '../layout.ts';

const POINTS: readonly { icon: string; title: MessageKey; body: MessageKey }[] = [
  { icon: 'fr-icon-lock-line', title: 'home.secureTitle', body: 'home.secureBody' },
  { icon: 'fr-icon-user-line', title: 'home.fileTitle', body: 'home.fileBody' },
  { icon: 'fr-icon-shield-line', title: 'home.dataTitle', body: 'home.dataBody' },
];

/** GET /: what the service is for, in a few lines. Links come with the pages they lead to. */
export async function homePage(app: FastifyInstance): Promise<void> {
  app.get('/', async (request, reply) => {
    const locale = localeOf(request);
    const service = siteOf(request).serviceName;
    const main = html`<div class="fr-my-7w">
  <h1>${t(locale, 'home.title')}</h1>
  <p class="fr-text--lead">${t(locale, 'home.lead', { service })}</p>
  <div class="fr-grid-row fr-grid-row--gutters fr-mt-4w">
    ${POINTS.map(
      (p) => html`<div class="fr-col-12 fr-col-md-4">
      <h2 class="fr-h4"><span class="${p.icon} fr-mr-1w" aria-hidden="true"></span>${t(locale, p.title)}</h2>
      <p>${t(locale, p.body)}</p>
    </div>`,
    )}
  </div>
</div>`;
    return sendPage(reply, { request, locale, title: service, main });
  });
}
