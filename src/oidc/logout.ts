import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuthDeps } from '../auth/auth-deps.ts';
import { forgetSession, SESSION_COOKIE } from '../auth/session-plugin.ts';
import { endSession } from '../auth/sessions.ts';
import { citizen } from '../db/contexts.ts';
import { narrow } from '../web/forms.ts';
import { html } from '../web/html.ts';
import { localeOf, t } from '../web/i18n.ts';
import { page, siteOf } from '../web/layout.ts';
import { CONTENT_SECURITY_POLICY } from '../web/security-headers.ts';
import { formPostPage, parseFormPost, policyWithFormActionTo } from './back-to-service.ts';

/**
 * RP-initiated logout (`/oidc/session/end`): a service sends the browser here after signing the
 * citizen out. Our pages instead of the library's: the confirmation asks whether to sign out
 * of Sésame too (the provider's session and ours: confirming ends both), the success page says
 * what happened. The library checks everything else: `id_token_hint` (signature, audience),
 * `post_logout_redirect_uri` registered for that client (exact match), `state` sent back, and
 * its own `xsrf` token, bound to its session cookie, in the confirmation form (our CSRF check is
 * off on the provider's routes; that token plays its part).
 */
type Requests = WeakMap<IncomingMessage, FastifyRequest>;

function fastifyRequest(requests: Requests, ctx: KoaContextWithOIDC): FastifyRequest {
  const request = requests.get(ctx.req);
  if (!request) throw new Error('oidc-provider: a request that did not come through the Fastify route');
  return request;
}

/** The library's confirmation form: where it posts and its xsrf token. */
function logoutForm(form: string): { action: string; xsrf: string } {
  const action = /action="([^"]+)"/.exec(form)?.[1];
  const xsrf = /name="xsrf" value="([^"]*)"/.exec(form)?.[1];
  if (action === undefined || xsrf === undefined) throw new Error('oidc-provider: unexpected logout form');
  return { action, xsrf };
}

/** `features.rpInitiatedLogout` for the provider's configuration (mount.ts). */
export function rpInitiatedLogout(requests: Requests): {
  enabled: true;
  logoutSource: (ctx: KoaContextWithOIDC, form: string) => void;
  postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => void;
} {
  return {
    enabled: true,
    // Shown when the browser has a provider session with an account (otherwise the library
    // confirms by itself, see installLogout: nobody to ask, and our session is left alone).
    logoutSource(ctx, form) {
      const request = fastifyRequest(requests, ctx);
      const locale = localeOf(request);
      const service = siteOf(request).serviceName;
      const { action, xsrf } = logoutForm(form);
      const client = ctx.oidc.client;
      const name = client ? (client.clientName ?? client.clientId) : null;
      const main = narrow(html`<h1>${t(locale, 'oidc.logout.title')}</h1>
  <p>${name ? t(locale, 'oidc.logout.leadClient', { client: name }) : t(locale, 'oidc.logout.lead')}</p>
  <p>${t(locale, 'oidc.logout.question', { service })}</p>
  <form method="post" action="${action}" id="op-logout">
    <input type="hidden" name="xsrf" value="${xsrf}">
    <ul class="fr-btns-group fr-btns-group--inline-md">
      <li><button class="fr-btn" type="submit" name="logout" value="yes" id="logout-confirm">${t(locale, 'oidc.logout.confirm', { service })}</button></li>
      <li><button class="fr-btn fr-btn--secondary" type="submit" id="logout-stay">${t(locale, 'oidc.logout.stay', { service })}</button></li>
    </ul>
  </form>`);
      ctx.type = 'html';
      ctx.body = page({ request, locale, title: t(locale, 'oidc.logout.title'), main }).toString();
    },
    // After a confirmation without a post_logout_redirect_uri. The library adds `client_id`
    // only when the citizen chose to stay signed in to Sésame.
    postLogoutSuccessSource(ctx) {
      const request = fastifyRequest(requests, ctx);
      const locale = localeOf(request);
      const service = siteOf(request).serviceName;
      const client = ctx.oidc.client;
      const stayed = client !== undefined;
      const main = narrow(html`<h1>${t(locale, 'oidc.logout.done.title')}</h1>
  <p>${client ? t(locale, 'oidc.logout.done.client', { client: client.clientName ?? client.clientId, service }) : t(locale, 'oidc.logout.done.all', { service })}</p>
  <p><a class="fr-btn" href="${stayed ? '/account' : '/login'}">${t(locale, stayed ? 'oidc.logout.done.account' : 'oidc.logout.done.login')}</a></p>`);
      ctx.type = 'html';
      ctx.body = page({ request, locale, title: t(locale, 'oidc.logout.done.title'), main }).toString();
    },
  };
}

/**
 * What the library's logout routes need from us, around them:
 * - `end_session`: the confirmation posts to our origin and the library answers with a redirect
 *   to the service's post_logout_redirect_uri (already checked against the client's
 *   registration, exact match). Chromium applies `form-action` to that redirect too: the page's
 *   policy names that exact URL. The page the library sends when there is no one to ask (its
 *   self-submitting form) is replaced by ours (formPostPage: no inline script).
 * - `end_session_confirm`: when the citizen confirmed ("sign me out", `logout=yes`) on our
 *   page (the provider's session had an account), the Sésame session of this browser ends too,
 *   as our own /logout ends it, and its cookie is cleared.
 */
export function installLogout(provider: Provider, o: { requests: Requests; auth: AuthDeps }): void {
  const { requests, auth } = o;
  provider.use(async (ctx, next) => {
    await next();
    const oidc = ctx.oidc as KoaContextWithOIDC['oidc'] | undefined;
    if (oidc?.route === 'end_session' && ctx.status === 200) {
      const request = requests.get(ctx.req);
      const back = oidc.params?.post_logout_redirect_uri;
      const auto = typeof ctx.body === 'string' ? parseFormPost(ctx.body) : null;
      if (auto && (!request || auto.action !== oidc.urlFor('end_session_confirm'))) return;
      if (auto && request) ctx.body = formPostPage(request, auto).toString();
      // Both pages are ours now (no inline script): our policy, form-action opened to the
      // exact post_logout_redirect_uri when the library accepted one for this client.
      const allowed = typeof back === 'string' && back !== '' && oidc.client?.postLogoutRedirectUriAllowed(back) === true;
      ctx.set('content-security-policy', allowed ? policyWithFormActionTo(back) : CONTENT_SECURITY_POLICY);
      ctx.set('cache-control', 'no-store');
      return;
    }
    if (oidc?.route === 'end_session_confirm' && ctx.status === 303 && oidc.params?.logout && oidc.session?.accountId) {
      const request = requests.get(ctx.req);
      const session = request ? await request.session() : null;
      // Only the Sésame session of the account the provider session was: the library also posts
      // here by itself when a browser's provider session and a new login disagree (another
      // person logged in), and that must not end the newcomer's session.
      if (!request || !session || session.accountId !== oidc.session.accountId) return;
      await citizen(auth.db, session.accountId, (tx) => endSession(tx, auth.clock, session, 'logout', request.id));
      forgetSession(request);
      // As clearSessionCookie (the Fastify reply is hijacked: the header goes on the provider's response).
      ctx.append('Set-Cookie', request.server.serializeCookie(SESSION_COOKIE, '', { path: '/', secure: true, httpOnly: true, sameSite: 'lax', expires: new Date(0) }));
    }
  });
}
