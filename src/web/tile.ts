import { html, type SafeHtml } from './html.ts';

/** A DSFR tile in a grid column: a heading link over the whole tile and one line of detail. */
export const tile = (o: { href: string; title: string; detail: string; small?: boolean }): SafeHtml =>
  html`<div class="fr-col-12 fr-col-md-4">
      <div class="fr-tile${o.small ? ' fr-tile--sm' : ''} fr-enlarge-link">
        <div class="fr-tile__body">
          <div class="fr-tile__content">
            <h3 class="fr-tile__title"><a href="${o.href}">${o.title}</a></h3>
            <p class="fr-tile__detail">${o.detail}</p>
          </div>
        </div>
      </div>
    </div>`;
