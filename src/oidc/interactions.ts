import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { AuthDeps } from '../auth/auth-deps.ts';
import { meetsLevel } from '../auth/levels.ts';
import { startSessionFlow } from '../auth/sensitive.ts';
import { csrfField } from '../web/csrf.ts';
import { sendError } from '../web/errors.ts';
import { narrow } from '../web/forms.ts';
import { html } from '../web/html.ts';
import { localeOf, t, type Locale, type MessageKey } from '../web/i18n.ts';
import { sendPage } from '../web/layout.ts';
import { allowFormActionTo } from '../web/security-headers.ts';
import { clientLevels, requiredLevel } from './acr.ts';
import { claimsOfScopes, type ClaimName } from './claims.ts';
import { forgetOidcReturn, interactionPath, interactionReturnPath, isInteractionUid, OIDC_PREFIX, rememberOidcReturn, uidFromReturnPath } from './return-to.ts';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;
type Client = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

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

/** The requested scopes this client may have (the provider never grants others). */
function allowedScopes(interaction: Interaction, client: Client): string[] {
  const registered = new Set((client.scope ?? '').split(' '));
  return String(interaction.params.scope ?? '')
    .split(' ')
    .filter((s) => s !== '' && registered.has(s));
}

function consentPage(request: FastifyRequest, reply: FastifyReply, locale: Locale, uid: string, client: Client, claims: ClaimName[]): FastifyReply {
  const name = client.clientName ?? client.clientId;
  const action = interactionPath(uid);
  const main = narrow(html`<h1>${t(locale, 'oidc.consent.title')}</h1>
  <p>${t(locale, 'oidc.consent.lead', { client: name })}</p>
  <ul id="claims">
    ${claims.map((c) => html`<li>${t(locale, CLAIM_WORDS[c])}</li>`)}
  </ul>
  <p>${t(locale, 'oidc.consent.remembered')}</p>
  <ul class="fr-btns-group fr-btns-group--inline-md">
    <li><form method="post" action="${action}/consent">${csrfField(request, reply)}<button class="fr-btn" type="submit">${t(locale, 'oidc.consent.accept')}</button></form></li>
    <li><form method="post" action="${action}/abort">${csrfField(request, reply)}<button class="fr-btn fr-btn--secondary" type="submit">${t(locale, 'oidc.consent.deny')}</button></form></li>
  </ul>`);
  return sendPage(reply, { request, locale, title: t(locale, 'oidc.consent.title'), main });
}

/**
 * The provider's interactions are our pages: its login prompt is our /login (and our step-up
 * when the request needs a higher level than the session has), its consent prompt the page
 * below. Every step reads the interaction from the provider (its signed, path-scoped cookie)
 * and the citizen from our session; the account is always the session's.
 */
export async function interactionRoutes(app: FastifyInstance, o: { provider: Provider; auth: AuthDeps }): Promise<void> {
  const { provider, auth } = o;

  /** The interaction of this browser with this uid, and its (enabled) client; null: answered with an error page. */
  async function load(request: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply): Promise<{ interaction: Interaction; client: Client } | null> {
    const { uid } = request.params;
    const interaction = isInteractionUid(uid) ? await provider.interactionDetails(request.raw, reply.raw).catch(() => null) : null;
    const client = interaction && interaction.uid === uid ? await provider.Client.find(String(interaction.params.client_id)).catch(() => undefined) : undefined;
    if (!interaction || !client) {
      await sendError(request, reply, 400, 'badRequest');
      return null;
    }
    return { interaction, client };
  }

  const finish = async (request: FastifyRequest, reply: FastifyReply, result: Parameters<Provider['interactionResult']>[2], merge: boolean): Promise<FastifyReply> =>
    reply.redirect(await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: merge }), 303);

  // Where a step-up started by an interaction comes back to (see interactionReturnPath).
  app.get<{ Params: { hex: string } }>(`${OIDC_PREFIX}/return/:hex`, async (request, reply) => {
    const uid = uidFromReturnPath(request.params.hex);
    if (!uid) return sendError(request, reply, 404, 'notFound');
    return reply.redirect(interactionPath(uid), 303);
  });

  app.get<{ Params: { uid: string } }>(`${OIDC_PREFIX}/interaction/:uid`, async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    const { interaction, client } = loaded;
    const { uid } = request.params;
    const session = await request.session();
    if (interaction.prompt.name === 'login') {
      if (!session) {
        rememberOidcReturn(reply, uid);
        return reply.redirect('/login', 303);
      }
      forgetOidcReturn(reply);
      const needed = requiredLevel(interaction.params.acr_values, clientLevels(client));
      // eidas3 is only asserted by an upstream identity provider, which Sésame has not yet.
      if (needed === 'eidas3') return finish(request, reply, { error: 'access_denied', error_description: 'eidas3 is not available' }, false);
      if (!meetsLevel(session.level, needed)) {
        const flowId = await startSessionFlow(auth, request, reply, session, { kind: 'step-up', returnTo: interactionReturnPath(uid), reason: 'level', keep: false });
        return reply.redirect(`/step-up/${flowId}`, 303);
      }
      const login = { accountId: session.accountId, acr: session.level, amr: session.amr, ts: Math.floor(session.authTime.getTime() / 1000), remember: false };
      return finish(request, reply, { login }, false);
    }
    if (interaction.prompt.name === 'consent') {
      if (!session || session.accountId !== interaction.session?.accountId) return finish(request, reply, { error: 'login_required', error_description: 'the session ended' }, false);
      // Accepting or refusing ends at the service's redirect_uri (validated by the provider, registered exactly).
      const redirectUri = String(interaction.params.redirect_uri ?? '');
      if (client.redirectUriAllowed(redirectUri)) allowFormActionTo(reply, redirectUri);
      return consentPage(request, reply, localeOf(request), uid, client, claimsOfScopes(allowedScopes(interaction, client)));
    }
    return sendError(request, reply, 400, 'badRequest');
  });

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
    return finish(request, reply, { consent: { grantId } }, true);
  });

  app.post<{ Params: { uid: string } }>(`${OIDC_PREFIX}/interaction/:uid/abort`, async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    return finish(request, reply, { error: 'access_denied', error_description: 'the citizen refused' }, false);
  });
}
