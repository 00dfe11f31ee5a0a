import { html, type SafeHtml } from './html.ts';

/** A DSFR table with a caption and column headers; its scrolling container takes the focus (keyboard users scroll it on small screens). */
export function table(o: { id: string; caption: string; headers: readonly string[]; rows: readonly SafeHtml[] | SafeHtml; hideCaption?: boolean }): SafeHtml {
  return html`<div class="fr-table${o.hideCaption ? ' fr-table--no-caption' : ''}">
  <div class="fr-table__wrapper">
    <div class="fr-table__container" tabindex="0">
      <div class="fr-table__content">
        <table id="${o.id}">
          <caption>${o.caption}</caption>
          <thead><tr>${o.headers.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
          <tbody>
            ${o.rows}
          </tbody>
        </table>
      </div>
    </div>
  </div>
</div>`;
}
