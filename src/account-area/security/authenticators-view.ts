import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator, AuthenticatorKind } from '../../auth/authenticators.ts';
import { formatDateTime } from '../../time-format.ts';
import { csrfField } from '../../web/csrf.ts';
import { alert } from '../../web/forms.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { t, type Locale, type MessageKey } from '../../web/i18n.ts';

const KIND: Record<AuthenticatorKind, MessageKey> = { passkey: 'strong.kind.passkey', totp: 'strong.kind.totp', device: 'strong.kind.device' };
const ADD: { kind: AuthenticatorKind; href: string; label: MessageKey }[] = [
  { kind: 'passkey', href: '/account/security/passkeys/new', label: 'strong.add.passkey' },
  { kind: 'totp', href: '/account/security/totp/new', label: 'strong.add.totp' },
  { kind: 'device', href: '/device', label: 'strong.add.device' },
];

/**
 * "Méthodes de connexion renforcées": what the account has (name, added, last used, cooling
 * off), a removal button for each (a sensitive operation), and the ways to add one. A citizen
 * with none is told what they bring.
 */
export function authenticatorsSection(o: { request: FastifyRequest; reply: FastifyReply; locale: Locale; timeZone: string; now: Date; authenticators: Authenticator[]; recoveryCodesLeft: number }): SafeHtml {
  const { locale } = o;
  const when = (d: Date): string => formatDateTime(locale, d.toISOString(), o.timeZone);
  const hasTotp = o.authenticators.some((a) => a.kind === 'totp');
  return html`<section class="fr-mb-7w" aria-labelledby="strong-title">
  <h2 id="strong-title">${t(locale, 'strong.title')}</h2>
  ${o.authenticators.length === 0 ? alert('info', t(locale, 'strong.none.title'), t(locale, 'strong.none.body')) : html`<p>${t(locale, 'strong.lead')}</p>`}
  <ul class="fr-raw-list" id="authenticators">
    ${o.authenticators.map(
      (a) => html`<li class="fr-mb-3w">
      <p class="fr-mb-1v"><strong>${a.name}</strong> — ${t(locale, KIND[a.kind])}</p>
      <p class="fr-hint-text fr-mb-1v">${t(locale, 'strong.added', { date: when(a.createdAt) })} · ${a.lastUsedAt ? t(locale, 'strong.lastUsed', { date: when(a.lastUsedAt) }) : t(locale, 'strong.neverUsed')}</p>
      ${a.sensitiveFrom.getTime() > o.now.getTime() ? html`<p class="fr-hint-text fr-mb-1v">${t(locale, 'strong.coolingOff', { date: when(a.sensitiveFrom) })}</p>` : ''}
      <form method="post" action="/account/security/authenticators/${a.id}/remove">
        ${csrfField(o.request, o.reply)}
        <button class="fr-btn fr-btn--sm fr-btn--tertiary" type="submit">${t(locale, 'strong.remove', { name: a.name })}</button>
      </form>
    </li>`,
    )}
  </ul>
  <ul class="fr-btns-group fr-btns-group--inline-md">
    ${ADD.map((a) => html`<li><a class="fr-btn fr-btn--secondary" href="${a.href}">${t(locale, a.label)}</a></li>`)}
  </ul>
  ${
    hasTotp
      ? html`<p id="recovery-codes-left">${t(locale, 'totp.security.codesLeft', { count: o.recoveryCodesLeft })}</p>
  <form method="post" action="/account/security/recovery-codes">
    ${csrfField(o.request, o.reply)}
    <button class="fr-btn fr-btn--tertiary" type="submit" aria-describedby="regenerate-hint">${t(locale, 'strong.recoveryCodes')}</button>
    <p class="fr-hint-text" id="regenerate-hint">${t(locale, 'totp.security.regenerateHint')}</p>
  </form>`
      : ''
  }
</section>`;
}
