import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfToken } from '../../../web/csrf.ts';
import { html, type SafeHtml } from '../../../web/html.ts';
import { t, type Locale } from '../../../web/i18n.ts';
import { WEBAUTHN_BROWSER_URL } from '../../../web/static.ts';
import type { FirstStep } from '../method-registry.ts';

/**
 * The passkey's block on /login and on a step-up's first page. It is `hidden` until
 * passkey.js has checked that the browser can use WebAuthn: without JavaScript the page reads
 * as before (the password path), never with a button that does nothing.
 */
export const LOGIN_FLOW_PLACEHOLDER = '{flow}';

/** The texts the script shows by itself (the server's refusals come with their own). */
function scriptMessages(locale: Locale): SafeHtml {
  return html`data-msg-working="${t(locale, 'passkey.working')}" data-msg-cancelled="${t(locale, 'passkey.cancelled')}" data-msg-network="${t(locale, 'passkey.network')}"`;
}

export function passkeyBlock(o: { request: FastifyRequest; reply: FastifyReply; locale: Locale; flowId: string | null; base: '/login' | '/step-up' }): SafeHtml {
  const { locale } = o;
  const login = o.base === '/login' || o.flowId === null;
  const options = login ? '/login/passkey/options' : `/step-up/${o.flowId}/passkey/options`;
  const verify = login ? `/login/passkey/${LOGIN_FLOW_PLACEHOLDER}` : `/step-up/${o.flowId}/passkey`;
  return html`<div class="fr-mt-4w" data-passkey="authenticate" data-options="${options}" data-verify="${verify}" data-csrf="${csrfToken(o.request, o.reply)}" data-vendor="${WEBAUTHN_BROWSER_URL}" ${scriptMessages(locale)} hidden>
  <p>${t(locale, login ? 'passkey.login.lead' : 'passkey.stepUp.lead')}</p>
  <button class="fr-btn fr-btn--secondary" type="button" data-passkey-start>${t(locale, login ? 'passkey.login.button' : 'passkey.stepUp.button')}</button>
  <p class="fr-message fr-mt-2w" role="status" aria-live="polite" data-passkey-status></p>
</div>`;
}

/** The method registry's entry (method-registry.ts): offered on a step-up only to accounts that have a passkey. */
export const PASSKEY_FIRST_STEP: FirstStep = {
  kinds: ['passkey'],
  scripts: ['passkey.js'],
  render: ({ request, reply, locale, flow, base }) => passkeyBlock({ request, reply, locale, flowId: flow?.id ?? null, base }),
};
