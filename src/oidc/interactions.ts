import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { AuthDeps } from '../auth/auth-deps.ts';
import { meetsLevel } from '../auth/levels.ts';
import { startSessionFlow } from '../auth/sensitive.ts';
import { sendError } from '../web/errors.ts';
import { localeOf } from '../web/i18n.ts';
import { allowFormActionTo } from '../web/security-headers.ts';
import { clientLevels, requiredLevel } from './acr.ts';
import { claimsOfScopes } from './claims.ts';
import { allowedScopes, consentPage, consentRoutes, type Client, type Interaction, type InteractionResult } from './consent.ts';
import { forgetOidcReturn, interactionPath, interactionReturnPath, isInteractionUid, OIDC_PREFIX, rememberOidcReturn, uidFromReturnPath } from './return-to.ts';

/**
 * The provider's interactions are our pages: its login prompt is our /login (and our step-up
 * when the request needs a higher level than the session has), its consent prompt consent.ts's
 * page. Every step reads the interaction from the provider (its signed, path-scoped cookie)
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

  const finish = async (request: FastifyRequest, reply: FastifyReply, result: InteractionResult, merge: boolean): Promise<FastifyReply> =>
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

  await consentRoutes(app, { provider, auth, load, finish });
}
