import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfToken } from '../web/csrf.ts';
import { alert } from '../web/forms.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { t, type Locale } from '../web/i18n.ts';
import { WEBAUTHN_BROWSER_URL } from '../web/static.ts';

/**
 * A block for the citizens' passkey.js (src/web/assets): the same script runs the console's
 * ceremonies, its endpoints given in data- attributes (CSP: no inline script). Hidden until
 * the script finds WebAuthn; without JavaScript the notice says why nothing happens.
 */
export const PASSKEY_SCRIPTS = ['passkey.js'] as const;

export function passkeyBlock(o: {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  mode: 'authenticate' | 'register';
  options: string;
  verify: string;
  lead: string;
  button: string;
}): SafeHtml {
  const { locale } = o;
  return html`<div data-passkey-nojs>${alert('info', t(locale, 'console.passkey.noScript'))}</div>
<div data-passkey-unsupported hidden>${alert('warning', t(locale, 'console.passkey.unsupported'))}</div>
<div class="fr-mt-4w" data-passkey="${o.mode}" data-options="${o.options}" data-verify="${o.verify}" data-csrf="${csrfToken(o.request, o.reply)}" data-vendor="${WEBAUTHN_BROWSER_URL}" data-msg-working="${t(locale, 'passkey.working')}" data-msg-cancelled="${t(locale, 'passkey.cancelled')}" data-msg-network="${t(locale, 'passkey.network')}" hidden>
  <p>${o.lead}</p>
  <button class="fr-btn" type="button" data-passkey-start>${o.button}</button>
  <p class="fr-message fr-mt-2w" role="status" aria-live="polite" data-passkey-status></p>
</div>`;
}
