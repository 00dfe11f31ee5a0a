import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfField } from '../../web/csrf.ts';
import { html, type HtmlValue, type SafeHtml } from '../../web/html.ts';
import type { MethodId } from '../methods/method.ts';

/**
 * The first form of a flow (login, activation, recovery): title, feedback, lead, the form
 * with its explicit method, then links to the other flows. Fields are the flow's own.
 */
export function startForm(o: {
  request: FastifyRequest;
  reply: FastifyReply;
  title: string;
  /** Alerts above the lead (an error, a throttle, a notice). */
  feedback: HtmlValue;
  lead: string;
  action: string;
  method: MethodId;
  fields: SafeHtml;
  submit: string;
  links: readonly { href: string; label: string }[];
}): SafeHtml {
  return html`<h1>${o.title}</h1>
${o.feedback}
<p>${o.lead}</p>
<form method="post" action="${o.action}" novalidate>
  ${csrfField(o.request, o.reply)}
  <input type="hidden" name="method" value="${o.method}">
  ${o.fields}
  <button class="fr-btn" type="submit">${o.submit}</button>
</form>
<ul class="fr-links-group fr-mt-4w">${o.links.map(
    (l) => html`
  <li><a class="fr-link fr-icon-arrow-right-line fr-link--icon-right" href="${l.href}">${l.label}</a></li>`,
  )}
</ul>`;
}

/** Fields side by side in a DSFR fieldset. */
export function fieldset(...elements: SafeHtml[]): SafeHtml {
  return html`<fieldset class="fr-fieldset">${elements.map(
    (e) => html`
    <div class="fr-fieldset__element">
      ${e}
    </div>`,
  )}
  </fieldset>`;
}
