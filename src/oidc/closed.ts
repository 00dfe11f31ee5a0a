import type { FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Database } from '../db/database.ts';
import { accessFor } from '../incident/access-gate.ts';
import { oidcAccessRefusal, oidcAccessRefusalFields } from '../incident/access-oidc.ts';
import { allowFormActionTo } from '../web/security-headers.ts';
import { formPostPage } from './back-to-service.ts';
import { sendMaintenance } from '../incident/maintenance-page.ts';
import { isOidcAuthorization, OIDC_AUTHORIZATION } from './return-to.ts';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * While citizen access is closed, an authorisation request goes back to the service with
 * `temporarily_unavailable` (access-oidc.ts) — only once its client is known and enabled and
 * its redirect_uri is one the client registered, exactly; anything else (unknown client, a
 * near-miss redirect_uri, a resumed interaction, a POSTed request) gets our maintenance page,
 * never a redirect. Returns true when it answered.
 */
export async function closedAuthorization(
  provider: Provider,
  request: FastifyRequest,
  reply: FastifyReply,
  o: { db: Database; cacheMs: number; retryAfterSeconds: number },
): Promise<boolean> {
  const path = request.url.split('?', 1)[0] ?? '';
  if (!isOidcAuthorization(path)) return false;
  const state = await accessFor(request, o);
  if (state.open) return false;
  const query = (request.query ?? {}) as Record<string, unknown>;
  const clientId = text(query.client_id);
  const redirectUri = text(query.redirect_uri);
  if (request.method === 'GET' && path === OIDC_AUTHORIZATION && clientId !== '' && redirectUri !== '') {
    const client = await provider.Client.find(clientId).catch(() => undefined);
    if (client?.redirectUriAllowed(redirectUri)) {
      const answer = { redirectUri, issuer: provider.issuer, state: text(query.state) };
      if (text(query.response_mode) === 'form_post') {
        // Answered the way the service asked: our form_post page (back-to-service.ts).
        allowFormActionTo(reply, redirectUri);
        await reply.code(200).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(formPostPage(request, { action: redirectUri, fields: oidcAccessRefusalFields(answer) }).toString());
        return true;
      }
      await reply.redirect(oidcAccessRefusal(answer), 303);
      return true;
    }
  }
  await sendMaintenance(request, reply, state, o.retryAfterSeconds);
  return true;
}
