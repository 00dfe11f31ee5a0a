import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, type SafeHtml } from '../web/html.ts';
import { localeOf, t, type Locale, type MessageKey } from '../web/i18n.ts';
import { sendPage } from '../web/layout.ts';

/** The pages of "My Account", in the order of its menu. */
export const ACCOUNT_SECTIONS = [
  { id: 'overview', href: '/account', label: 'account.nav.overview' },
  { id: 'contact', href: '/account/contact', label: 'account.nav.contact' },
  { id: 'bank-details', href: '/account/bank-details', label: 'account.nav.bankDetails' },
  { id: 'procedures', href: '/account/procedures', label: 'account.nav.procedures' },
  { id: 'payments', href: '/account/payments', label: 'account.nav.payments' },
  { id: 'security', href: '/account/security', label: 'account.nav.security' },
  { id: 'export', href: '/account/export', label: 'account.nav.export' },
] as const satisfies readonly { id: string; href: string; label: MessageKey }[];

export type AccountSection = (typeof ACCOUNT_SECTIONS)[number]['id'];

function sideMenu(locale: Locale, current: AccountSection): SafeHtml {
  return html`<nav class="fr-sidemenu" role="navigation" aria-labelledby="account-menu-title">
  <div class="fr-sidemenu__inner">
    <button class="fr-sidemenu__btn" hidden aria-controls="account-menu" aria-expanded="false" type="button">${t(locale, 'account.nav.title')}</button>
    <div class="fr-collapse" id="account-menu">
      <p class="fr-sidemenu__title" id="account-menu-title">${t(locale, 'account.nav.title')}</p>
      <ul class="fr-sidemenu__list">
        ${ACCOUNT_SECTIONS.map(
          (s) => html`<li class="fr-sidemenu__item${s.id === current ? ' fr-sidemenu__item--active' : ''}">
          <a class="fr-sidemenu__link" href="${s.href}"${s.id === current ? html` aria-current="page"` : ''}>${t(locale, s.label)}</a>
        </li>`,
        )}
      </ul>
    </div>
  </div>
</nav>`;
}

export interface AccountPageOptions {
  request: FastifyRequest;
  /** The page's own title (also its <h1>, which `main` must not repeat). */
  title: string;
  /** Which entry of the menu is this page. */
  current: AccountSection;
  main: SafeHtml;
  status?: number;
  scripts?: readonly string[];
}

/** A page of "My Account": the area's menu beside the page's content. */
export function sendAccountPage(reply: FastifyReply, o: AccountPageOptions): FastifyReply {
  const locale = localeOf(o.request);
  const main = html`<div class="fr-grid-row fr-grid-row--gutters fr-my-5w">
  <div class="fr-col-12 fr-col-md-3">${sideMenu(locale, o.current)}</div>
  <div class="fr-col-12 fr-col-md-9">
    <h1>${o.title}</h1>
${o.main}
  </div>
</div>`;
  return sendPage(reply, { request: o.request, locale, title: o.title, main, status: o.status, scripts: o.scripts });
}
