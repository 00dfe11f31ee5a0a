import type { FastifyReply, FastifyRequest } from 'fastify';
import { claimsOfScopes, SCOPE_CLAIMS, type ClaimName } from '../../oidc/claims.ts';
import { claimWords } from '../../oidc/consent.ts';
import type { ConnectedService } from '../../oidc/connected-services.ts';
import { formatDateTime } from '../../time-format.ts';
import { csrfField } from '../../web/csrf.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { t, type Locale } from '../../web/i18n.ts';

const KNOWN_CLAIMS = new Set<string>(Object.values(SCOPE_CLAIMS).flat());
const isClaimName = (c: string): c is ClaimName => KNOWN_CLAIMS.has(c);

/** What a service receives: the claims of its consented scopes and any claim consented on its own, each once. */
export function claimsOf(service: Pick<ConnectedService, 'scopes' | 'claims'>): ClaimName[] {
  return [...new Set([...claimsOfScopes(service.scopes), ...service.claims.filter(isClaimName)])];
}

/**
 * "Services connectés": each service the citizen consented to (its name, since when, the data
 * it receives in the consent page's words) with a "Retirer l'accès" form that withdraws the
 * consent and revokes the service's tokens (connected-services.ts withdrawConsent).
 */
export function connectedServicesSection(o: { request: FastifyRequest; reply: FastifyReply; locale: Locale; timeZone: string; services: readonly ConnectedService[] }): SafeHtml {
  const { locale } = o;
  const when = (d: Date): string => formatDateTime(locale, d.toISOString(), o.timeZone);
  return html`<section class="fr-mb-7w" aria-labelledby="services-title">
  <h2 id="services-title">${t(locale, 'services.title')}</h2>
  <p>${t(locale, 'services.lead')}</p>
  ${
    o.services.length === 0
      ? html`<p id="connected-services-none">${t(locale, 'services.none')}</p>`
      : html`<ul class="fr-raw-list" id="connected-services">
    ${o.services.map(
      (s) => html`<li class="fr-mb-3w">
      <h3 class="fr-h6 fr-mb-1v">${s.name}${s.disabled ? html` <span class="fr-badge fr-badge--sm fr-badge--no-icon">${t(locale, 'services.disabled')}</span>` : ''}</h3>
      <p class="fr-hint-text fr-mb-1v">${t(locale, 'services.since', { date: when(s.consentedAt) })}${s.updatedAt.getTime() !== s.consentedAt.getTime() ? html` · ${t(locale, 'services.updated', { date: when(s.updatedAt) })}` : ''}</p>
      <p class="fr-mb-1v">${t(locale, 'services.receives')}</p>
      <ul class="fr-mb-1w">
        ${claimsOf(s).map((c) => html`<li>${claimWords(locale, c)}</li>`)}
      </ul>
      <form method="post" action="/account/security/connected-services/${s.clientId}/revoke">
        ${csrfField(o.request, o.reply)}
        <button class="fr-btn fr-btn--sm fr-btn--tertiary" type="submit" title="${t(locale, 'services.revokeTitle', { service: s.name })}">${t(locale, 'services.revoke')}</button>
      </form>
    </li>`,
    )}
  </ul>`
  }
</section>`;
}
