import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { audit } from '../audit/log.ts';
import type { AuthDeps } from '../auth/auth-deps.ts';
import { citizenRequest } from '../isolation/citizen-request.ts';
import { csrfField } from '../web/csrf.ts';
import { sendError } from '../web/errors.ts';
import { narrow } from '../web/forms.ts';
import { html } from '../web/html.ts';
import { t, type Locale, type MessageKey } from '../web/i18n.ts';
import { sendPage } from '../web/layout.ts';
import type { ClaimName } from './claims.ts';
import { recordConsent, revokeGrant } from './connected-services.ts';
import { interactionPath, OIDC_PREFIX } from './return-to.ts';
import type { OidcStore } from './adapter.ts';

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;
export type Client = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;
export type InteractionResult = Parameters<Provider['interactionResult']>[2];

/** What interactions.ts hands the consent routes: its loader and its way to end an interaction. */
export interface ConsentRouteDeps {
  provider: Provider;
  /** The provider's store: replacing a grant waits for its saves under way (connected-services.ts revokeGrant). */
  store: OidcStore;
  auth: AuthDeps;
  /** The interaction of this browser with this uid, and its (enabled) client; null: answered with an error page. */
  load(request: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply): Promise<{ interaction: Interaction; client: Client } | null>;
  finish(request: FastifyRequest, reply: FastifyReply, result: InteractionResult, merge: boolean): Promise<FastifyReply>;
}

const CLAIM_WORDS: Record<ClaimName, MessageKey> = {
  sub: 'oidc.claim.sub',
  given_name: 'oidc.claim.given_name',
  family_name: 'oidc.claim.family_name',
  birthdate: 'oidc.claim.birthdate',
  gender: 'oidc.claim.gender',
  birthplace: 'oidc.claim.birthplace',
  birthcountry: 'oidc.claim.birthcountry',
  preferred_username: 'oidc.claim.preferred_username',
  email: 'oidc.claim.email',
  phone_number: 'oidc.claim.phone_number',
};

/** The words for a claim, for every page that lists what a service receives. */
export const claimWords = (locale: Locale, claim: ClaimName): string => t(locale, CLAIM_WORDS[claim]);

/** The requested scopes this client may have (the provider never grants others). */
export function allowedScopes(interaction: Interaction, client: Client): string[] {
  const registered = new Set((client.scope ?? '').split(' '));
  return String(interaction.params.scope ?? '')
    .split(' ')
    .filter((s) => s !== '' && registered.has(s));
}

export function consentPage(request: FastifyRequest, reply: FastifyReply, locale: Locale, uid: string, client: Client, claims: ClaimName[]): FastifyReply {
  const name = client.clientName ?? client.clientId;
  const action = interactionPath(uid);
  const main = narrow(html`<h1>${t(locale, 'oidc.consent.title')}</h1>
  <p>${t(locale, 'oidc.consent.lead', { client: name })}</p>
  <ul id="claims">
    ${claims.map((c) => html`<li>${claimWords(locale, c)}</li>`)}
  </ul>
  <p>${t(locale, 'oidc.consent.remembered')}</p>
  <ul class="fr-btns-group fr-btns-group--inline-md">
    <li><form method="post" action="${action}/consent">${csrfField(request, reply)}<button class="fr-btn" type="submit">${t(locale, 'oidc.consent.accept')}</button></form></li>
    <li><form method="post" action="${action}/abort">${csrfField(request, reply)}<button class="fr-btn fr-btn--secondary" type="submit">${t(locale, 'oidc.consent.deny')}</button></form></li>
  </ul>`);
  return sendPage(reply, { request, locale, title: t(locale, 'oidc.consent.title'), main });
}

/** Accepting records the grant (exactly what the page listed); refusing ends the interaction with access_denied. */
export async function consentRoutes(app: FastifyInstance, o: ConsentRouteDeps): Promise<void> {
  const { provider, store, auth, load, finish } = o;

  // Records the grant: exactly what the consent page listed (the scopes and claims still missing).
  app.post<{ Params: { uid: string } }>(`${OIDC_PREFIX}/interaction/:uid/consent`, async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    const { interaction, client } = loaded;
    const session = await request.session();
    const accountId = interaction.session?.accountId;
    if (interaction.prompt.name !== 'consent' || !session || !accountId || session.accountId !== accountId) return sendError(request, reply, 400, 'badRequest');
    const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId, clientId: client.clientId });
    const details = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    // Remembered per service (connected-services.ts), withdrawable from /account/security.
    const { replaced } = await citizenRequest(auth, request, (tx) =>
      recordConsent(tx, auth.clock, { accountId, clientId: client.clientId, grant, grantId, added: details.missingOIDCScope ?? [], requestId: request.id }),
    );
    if (replaced) await revokeGrant(store, replaced);
    return finish(request, reply, { consent: { grantId } }, true);
  });

  app.post<{ Params: { uid: string } }>(`${OIDC_PREFIX}/interaction/:uid/abort`, async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    const { interaction, client } = loaded;
    const session = await request.session();
    const accountId = interaction.session?.accountId;
    if (interaction.prompt.name === 'consent' && session && accountId && session.accountId === accountId) {
      await citizenRequest(auth, request, (tx) => audit(tx, auth.clock, { type: 'oidc.consent-refused', accountId, requestId: request.id, payload: { clientId: client.clientId } }));
    }
    return finish(request, reply, { error: 'access_denied', error_description: 'the citizen refused' }, false);
  });
}
