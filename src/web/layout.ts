import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, type SafeHtml } from './html.ts';
import { localeOf, switchLanguageHref, t, type Locale } from './i18n.ts';
import { assetUrl, dsfrUrl } from './static.ts';

/** What pages need to know about the deployment; decorated on the app by buildApp. */
export interface Site {
  serviceName: string;
  production: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    site: Site;
  }
}

export const siteOf = (request: FastifyRequest): Site => request.server.site;

export interface PageOptions {
  request: FastifyRequest;
  /** The page's own title; the service name is appended. */
  title: string;
  /** Content of <main>, inside a DSFR container. */
  main: SafeHtml;
  /** Defaults to the request's language. */
  locale?: Locale;
  /** Our own module scripts (files under src/web/assets), for the pages that need one (WebAuthn): never inline. */
  scripts?: readonly string[];
}

const EXTERNAL = ['info.gouv.fr', 'service-public.gouv.fr', 'legifrance.gouv.fr', 'data.gouv.fr'];

function header(locale: Locale, service: string, switchHref: string, other: Locale): SafeHtml {
  return html`<header role="banner" class="fr-header">
  <div class="fr-header__body">
    <div class="fr-container">
      <div class="fr-header__body-row">
        <div class="fr-header__brand fr-enlarge-link">
          <div class="fr-header__brand-top">
            <div class="fr-header__logo"><p class="fr-logo">République<br>Française</p></div>
            <div class="fr-header__navbar">
              <button class="fr-btn--menu fr-btn" data-fr-opened="false" aria-controls="header-menu" aria-haspopup="menu" id="header-menu-button" title="${t(locale, 'layout.menu')}" type="button">${t(locale, 'layout.menu')}</button>
            </div>
          </div>
          <div class="fr-header__service">
            <a href="/" title="${t(locale, 'layout.homeTitle', { service })}"><p class="fr-header__service-title">${service}</p></a>
            <p class="fr-header__service-tagline">${t(locale, 'layout.tagline')}</p>
          </div>
        </div>
        <div class="fr-header__tools">
          <div class="fr-header__tools-links">
            <ul class="fr-btns-group">
              <li><a class="fr-btn fr-icon-translate-2" href="${switchHref}" hreflang="${other}" lang="${other}" title="${t(locale, 'layout.switchToTitle')}">${t(locale, 'layout.switchTo')}</a></li>
            </ul>
          </div>
        </div>
      </div>
    </div>
  </div>
  <div class="fr-header__menu fr-modal" id="header-menu" aria-labelledby="header-menu-button">
    <div class="fr-container">
      <button class="fr-btn--close fr-btn" aria-controls="header-menu" title="${t(locale, 'layout.close')}" type="button">${t(locale, 'layout.close')}</button>
      <div class="fr-header__menu-links"></div>
    </div>
  </div>
</header>`;
}

function footer(locale: Locale, service: string, switchHref: string, other: Locale): SafeHtml {
  return html`<footer class="fr-footer" role="contentinfo" id="footer">
  <div class="fr-container">
    <div class="fr-footer__body">
      <div class="fr-footer__brand fr-enlarge-link">
        <a href="/" title="${t(locale, 'layout.footerBrandTitle', { service })}"><p class="fr-logo">République<br>Française</p></a>
      </div>
      <div class="fr-footer__content">
        <p class="fr-footer__content-desc">${t(locale, 'layout.footerDesc', { service })}</p>
        <ul class="fr-footer__content-list">
          ${EXTERNAL.map(
            (site) =>
              html`<li class="fr-footer__content-item"><a class="fr-footer__content-link" href="https://${site}" target="_blank" rel="noopener external" title="${t(locale, 'layout.newWindow', { site })}">${site}</a></li>`,
          )}
        </ul>
      </div>
    </div>
    <div class="fr-footer__bottom">
      <ul class="fr-footer__bottom-list">
        <li class="fr-footer__bottom-item"><a class="fr-footer__bottom-link" href="${switchHref}" hreflang="${other}" lang="${other}">${t(locale, 'layout.switchTo')}</a></li>
      </ul>
      <div class="fr-footer__bottom-copy">
        <p>${t(locale, 'layout.license')} <a href="https://github.com/etalab/licence-ouverte/blob/master/LO.md" target="_blank" rel="noopener external" title="${t(locale, 'layout.newWindow', { site: t(locale, 'layout.licenseName') })}">${t(locale, 'layout.licenseName')}</a></p>
      </div>
    </div>
  </div>
</footer>`;
}

/**
 * The DSFR base page. The language switch is a plain link (it works without JavaScript) in
 * the header and, because the header tools are hidden on small screens until the DSFR
 * script copies them into the menu, in the footer as well.
 */
export function page({ request, title, main, locale = localeOf(request), scripts = [] }: PageOptions): SafeHtml {
  const service = siteOf(request).serviceName;
  const other: Locale = locale === 'fr' ? 'en' : 'fr';
  const switchHref = switchLanguageHref(request, other);
  const fullTitle = title === service ? service : `${title} - ${service}`;
  return html`<!doctype html>
<html lang="${locale}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1, shrink-to-fit=no">
  <meta name="format-detection" content="telephone=no,date=no,address=no,email=no,url=no">
  <meta name="theme-color" content="#000091">
  <title>${fullTitle}</title>
  <link rel="apple-touch-icon" href="${dsfrUrl('favicon/apple-touch-icon.png')}">
  <link rel="icon" href="${dsfrUrl('favicon/favicon.svg')}" type="image/svg+xml">
  <link rel="shortcut icon" href="${dsfrUrl('favicon/favicon.ico')}" type="image/x-icon">
  <link rel="stylesheet" href="${dsfrUrl('dsfr.min.css')}">
  <link rel="stylesheet" href="${dsfrUrl('utility/icons/icons.min.css')}">
  <link rel="stylesheet" href="${assetUrl('sesame.css')}">
</head>
<body>
  <div class="fr-skiplinks">
    <nav class="fr-container" role="navigation" aria-label="${t(locale, 'layout.skipLinks')}">
      <ul class="fr-skiplinks__list">
        <li><a class="fr-link" href="#content">${t(locale, 'layout.skipToContent')}</a></li>
        <li><a class="fr-link" href="#footer">${t(locale, 'layout.skipToFooter')}</a></li>
      </ul>
    </nav>
  </div>
  ${header(locale, service, switchHref, other)}
  <main id="content" tabindex="-1">
    <div class="fr-container">
${main}
    </div>
  </main>
  ${footer(locale, service, switchHref, other)}
  <script type="module" src="${dsfrUrl('dsfr.module.min.js')}"></script>
  ${scripts.map((file) => html`<script type="module" src="${assetUrl(file)}"></script>`)}
</body>
</html>
`;
}

/** Sends a full page as HTML. */
export function sendPage(reply: FastifyReply, options: PageOptions & { status?: number }): FastifyReply {
  return reply
    .code(options.status ?? reply.statusCode)
    .type('text/html; charset=utf-8')
    .send(page(options).toString());
}
