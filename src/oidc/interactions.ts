import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { AuthDeps } from '../auth/auth-deps.ts';
import { levelRank, meetsLevel, type Level } from '../auth/levels.ts';
import { startSessionFlow } from '../auth/sensitive.ts';
import { sendError } from '../web/errors.ts';
import { csrfField } from '../web/csrf.ts';
import { narrow } from '../web/forms.ts';
import { html } from '../web/html.ts';
import { localeOf, t } from '../web/i18n.ts';
import { sendPage } from '../web/layout.ts';
import { allowFormActionTo } from '../web/security-headers.ts';
import { assertedLevel, clientLevels, requiredLevel, SUSPICIOUS_MIN_LEVEL, SUSPICIOUS_REASON } from './acr.ts';
import { claimsOfScopes } from './claims.ts';
import { allowedScopes, consentPage, consentRoutes, type Client, type Interaction, type InteractionResult } from './consent.ts';
import { forgetOidcReturnOf, interactionPath, interactionReturnPath, isInteractionUid, OIDC_LOGIN_PATH, OIDC_PREFIX, rememberOidcReturn, uidFromReturnPath } from './return-to.ts';
import type { OidcStore } from './adapter.ts';

/**
 * The earliest authentication time (seconds) this interaction accepts: its start for a
 * suspicious request or `prompt=login`, now minus `max_age` when the service sent one.
 */
function freshSince(interaction: Interaction, suspicious: boolean): number {
  const prompts = String(interaction.params.prompt ?? '').split(' ');
  if (suspicious || prompts.includes('login')) return interaction.iat;
  const maxAge = Number(interaction.params.max_age);
  return Number.isSafeInteger(maxAge) && maxAge >= 0 ? interaction.iat - maxAge : 0;
}

/**
 * The provider's interactions are our pages: its login prompt is our /login (and our step-up
 * when the request needs a higher level than the session has), its consent prompt consent.ts's
 * page. Every step reads the interaction from the provider (its signed, path-scoped cookie)
 * and the citizen from our session; the account is always the session's.
 */
export async function interactionRoutes(app: FastifyInstance, o: { provider: Provider; store: OidcStore; auth: AuthDeps }): Promise<void> {
  const { provider, store, auth } = o;

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

  // The interaction ends here: its way back from /login (if still in this browser) goes with it.
  const finish = async (request: FastifyRequest, reply: FastifyReply, result: InteractionResult, merge: boolean): Promise<FastifyReply> => {
    const to = await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: merge });
    forgetOidcReturnOf(request, reply);
    return reply.redirect(to, 303);
  };

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
      // Marked by the reverse proxy (acr.ts): at least eidas2, and no SSO.
      const suspicious = interaction.prompt.reasons.includes(SUSPICIOUS_REASON);
      const asked = requiredLevel(interaction.params.acr_values, clientLevels(client));
      const needed: Level = suspicious && levelRank(asked) < levelRank(SUSPICIOUS_MIN_LEVEL) ? SUSPICIOUS_MIN_LEVEL : asked;
      // eidas3 is only asserted by an upstream identity provider, which Sésame has not yet: said before any login page.
      if (needed === 'eidas3') return finish(request, reply, { error: 'access_denied', error_description: 'eidas3 is not available: Sesame asserts eidas1 and eidas2 only' }, false);
      if (!session) {
        rememberOidcReturn(reply, uid);
        return reply.redirect(OIDC_LOGIN_PATH, 303);
      }
      const asserted = assertedLevel(session, auth.clock.now());
      // No SSO for a suspicious request or prompt=login: only an authentication done since this
      // interaction began counts; max_age: one no older than that.
      const authTime = Math.floor(session.authTime.getTime() / 1000);
      const fresh = authTime >= freshSince(interaction, suspicious);
      if (!fresh && !meetsLevel(needed, 'eidas2')) {
        // The step-up asks for a strong method; an eidas1 request that must re-authenticate
        // goes through the login again (password and mailed code). The session lives on until
        // that login succeeds and replaces it (finish.ts): a link cannot log anyone out.
        rememberOidcReturn(reply, uid);
        return reply.redirect(OIDC_LOGIN_PATH, 303);
      }
      forgetOidcReturnOf(request, reply);
      if (!meetsLevel(asserted.acr, needed) || !fresh) {
        // A step-up that reaches the level is also a fresh authentication. Its page explains a cooling-off.
        const reason = !fresh && meetsLevel(asserted.acr, needed) ? 'stale' : asserted.coolingOff ? 'cooling-off' : 'level';
        const flowId = await startSessionFlow(auth, request, reply, session, { kind: 'step-up', returnTo: interactionReturnPath(uid), reason, keep: false });
        return reply.redirect(`/step-up/${flowId}`, 303);
      }
      // The browser's provider session is someone else's (they logged out of Sésame, another
      // person logged in): it ends here. Left alone, the library would answer with its own
      // self-submitting logout form (inline script, no way through without JavaScript).
      const previous = interaction.session;
      if (previous?.accountId && previous.accountId !== session.accountId && previous.uid) {
        // Emptied rather than destroyed: the resume checks that the browser's session is still
        // the one the interaction began with (same uid).
        // The interaction remembers whose session it began in, and refuses a changed principal.
        // The provider's own time line (it reads Date, not our Clock): expiries are on it.
        const now = Math.floor(Date.now() / 1000);
        const stale = await provider.Session.findByUid(previous.uid);
        if (stale?.exp) {
          Object.assign(stale, { accountId: undefined, loginTs: undefined, acr: undefined, amr: undefined, authorizations: {}, transient: undefined });
          await stale.save(Math.max(1, stale.exp - now));
        }
        Reflect.deleteProperty(previous, 'accountId'); // typed as always present; the library reads it as optional
        await interaction.save(Math.max(1, interaction.exp - now));
      }
      const login = { accountId: session.accountId, acr: asserted.acr, amr: asserted.amr, ts: Math.floor(session.authTime.getTime() / 1000), remember: false };
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

  // Giving up a service's sign-in from our login or step-up page: a confirmation, then the
  // service gets access_denied (its redirect_uri, registered exactly, opened to form-action).
  app.get<{ Params: { uid: string } }>(`${OIDC_PREFIX}/interaction/:uid/cancel`, async (request, reply) => {
    const loaded = await load(request, reply);
    if (!loaded) return reply;
    const { client, interaction } = loaded;
    const redirectUri = String(interaction.params.redirect_uri ?? '');
    if (client.redirectUriAllowed(redirectUri)) allowFormActionTo(reply, redirectUri);
    const locale = localeOf(request);
    const main = narrow(html`<h1>${t(locale, 'oidc.cancel.title')}</h1>
  <p>${t(locale, 'oidc.cancel.lead', { client: client.clientName ?? client.clientId })}</p>
  <ul class="fr-btns-group fr-btns-group--inline-md">
    <li><form method="post" action="${interactionPath(request.params.uid)}/abort">${csrfField(request, reply)}<button class="fr-btn" type="submit" id="cancel-sign-in">${t(locale, 'oidc.cancel.confirm')}</button></form></li>
    <li><a class="fr-btn fr-btn--secondary" href="${interactionPath(request.params.uid)}">${t(locale, 'oidc.cancel.back')}</a></li>
  </ul>`);
    return sendPage(reply, { request, locale, title: t(locale, 'oidc.cancel.title'), main });
  });

  await consentRoutes(app, { provider, store, auth, load, finish });
}
