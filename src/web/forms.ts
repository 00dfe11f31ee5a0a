import type { FastifyRequest } from 'fastify';
import { html, type SafeHtml } from './html.ts';

/** A submitted text field: '' when missing or repeated (a repeated field is never what our forms send). */
export function field(request: FastifyRequest, name: string, max = 1000): string {
  const body = request.body;
  if (typeof body !== 'object' || body === null) return '';
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value.slice(0, max) : '';
}

export interface InputOptions {
  id: string;
  label: string;
  hint?: string;
  value?: string;
  error?: string;
  type?: 'text' | 'password' | 'date' | 'email' | 'datetime-local';
  autocomplete?: string;
  inputmode?: 'numeric' | 'text' | 'email';
  maxlength?: number;
  /** Only the first field of a page, so that screen readers still start at the top. */
  autofocus?: boolean;
}

/** A DSFR input group; the error is tied to the field with aria-describedby. */
export function input(o: InputOptions): SafeHtml {
  const messages = `${o.id}-messages`;
  return html`<div class="fr-input-group${o.error ? ' fr-input-group--error' : ''}">
  <label class="fr-label" for="${o.id}">${o.label}${o.hint ? html`<span class="fr-hint-text">${o.hint}</span>` : ''}</label>
  <input class="fr-input${o.error ? ' fr-input--error' : ''}" id="${o.id}" name="${o.id}" type="${o.type ?? 'text'}"${o.value ? html` value="${o.value}"` : ''}${
    o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''
  }${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}${o.maxlength ? html` maxlength="${o.maxlength}"` : ''}${
    o.autofocus ? html` autofocus` : ''
  } aria-describedby="${messages}" spellcheck="false" autocapitalize="off">
  <div class="fr-messages-group" id="${messages}" aria-live="polite">${o.error ? html`<p class="fr-message fr-message--error">${o.error}</p>` : ''}</div>
</div>`;
}

/** A DSFR alert; `role="alert"` for errors so that screen readers announce them after a post. */
export function alert(kind: 'error' | 'success' | 'info' | 'warning', title: string, body?: string | SafeHtml): SafeHtml {
  return html`<div class="fr-alert fr-alert--${kind} fr-mb-4w"${kind === 'error' ? html` role="alert"` : ''}>
  <h2 class="fr-alert__title">${title}</h2>
  ${body ? html`<p>${body}</p>` : ''}
</div>`;
}

/** The narrow centred column of every authentication page. */
export function narrow(content: SafeHtml): SafeHtml {
  return html`<div class="fr-grid-row fr-grid-row--center fr-my-7w">
  <div class="fr-col-12 fr-col-md-8 fr-col-lg-6">
${content}
  </div>
</div>`;
}
