import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { sendError } from '../web/errors.ts';
import { narrow } from '../web/forms.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { localeOf, t } from '../web/i18n.ts';
import { page, sendPage } from '../web/layout.ts';
import { CONTENT_SECURITY_POLICY } from '../web/security-headers.ts';
import { interactionPath, isInteractionUid, OIDC_PREFIX, uidFromReturnPath } from './return-to.ts';

/**
 * The way back to a service, as Chromium allows it. Chromium applies the CSP `form-action` of
 * the page a form was posted from to every redirect that follows the post: a login or step-up
 * form (`form-action 'self'`) whose answer redirects to the interaction, which redirects to the
 * service's redirect_uri (consent already given), would be blocked at the last hop. So a login
 * or step-up that ends in an interaction does not redirect there: it redirects (same origin) to
 * this page, which sends the browser on with `<meta http-equiv="refresh">` and a link: a new
 * navigation, not a form submission, so no form-action applies, and it works without
 * JavaScript. Our `form-action` stays `'self'` everywhere else.
 */
export const BACK_TO_SERVICE_PREFIX = `${OIDC_PREFIX}/continue`;

const INTERACTION = new RegExp(`^${OIDC_PREFIX}/interaction/([A-Za-z0-9_-]{16,64})$`);
const RETURN = new RegExp(`^${OIDC_PREFIX}/return/([0-9a-f]+)$`);

/**
 * The page to send the browser to instead of `destination` when that is an interaction
 * (`/oidc/interaction/<uid>`, or a step-up's `/oidc/return/<hex>`); null for anything else,
 * which keeps its plain redirect. The path is rebuilt from the checked uid only.
 */
export function backToServicePath(destination: string): string | null {
  const interaction = INTERACTION.exec(destination)?.[1];
  const hex = RETURN.exec(destination)?.[1];
  const uid = interaction ?? (hex === undefined ? null : uidFromReturnPath(hex));
  return uid && isInteractionUid(uid) ? `${BACK_TO_SERVICE_PREFIX}/${uid}` : null;
}

export async function backToServiceRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { uid: string } }>(`${BACK_TO_SERVICE_PREFIX}/:uid`, async (request, reply) => {
    const { uid } = request.params;
    if (!isInteractionUid(uid)) return sendError(request, reply, 404, 'notFound');
    const target = interactionPath(uid);
    const locale = localeOf(request);
    // The interaction checks everything (its own signed cookie, the session): this page only
    // names where to go, built from the uid, never from the request.
    const main = narrow(html`<meta http-equiv="refresh" content="${`0;url=${target}`}">
  <h1>${t(locale, 'oidc.back.title')}</h1>
  <p>${t(locale, 'oidc.back.lead')}</p>
  <p><a class="fr-btn" id="back-to-service" href="${target}">${t(locale, 'oidc.back.link')}</a></p>`);
    return sendPage(reply, { request, locale, title: t(locale, 'oidc.back.title'), main });
  });
}

/** A CSP source expression for exactly this URL (scheme, host, port and path; `;` and `,` would end it). */
export function exactSource(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname.replace(/[;,\s]/g, (c) => encodeURIComponent(c))}`;
}

/** Our CSP with `form-action` opened to one more exact URL (validated by the caller). */
export const policyWithFormActionTo = (url: string): string => CONTENT_SECURITY_POLICY.replace("form-action 'self'", `form-action 'self' ${exactSource(url)}`);

const unescapeHtml = (v: string): string =>
  v.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? '');

/** The action and hidden fields of oidc-provider's form_post page (lib/response_modes/form_post.js); null if the body is not one. */
export function parseFormPost(body: string): { action: string; fields: [string, string][] } | null {
  if (!body.includes('<title>Submitting Callback</title>')) return null;
  const action = /<form method="post" action="([^"]*)">/.exec(body)?.[1];
  if (action === undefined) return null;
  const fields = [...body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\/>/g)].map(([, name = '', value = '']): [string, string] => [name, unescapeHtml(value)]);
  return { action: unescapeHtml(action), fields };
}

/** Our page that posts `fields` to `action` (the service): a button, and our script that presses it. */
export function formPostPage(request: FastifyRequest, form: { action: string; fields: [string, string][] }): SafeHtml {
  const locale = localeOf(request);
  const main = narrow(html`<h1>${t(locale, 'oidc.formPost.title')}</h1>
  <p>${t(locale, 'oidc.formPost.lead')}</p>
  <form method="post" action="${form.action}" data-oidc-form-post>
    ${form.fields.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
    <button class="fr-btn" type="submit" id="form-post-continue">${t(locale, 'oidc.formPost.button')}</button>
  </form>`);
  return page({ request, locale, title: t(locale, 'oidc.formPost.title'), main, scripts: ['oidc-form-post.js'] });
}

/**
 * `response_mode=form_post`: the library's page submits itself with an inline script and posts
 * to the service, which our CSP forbids twice (no inline script; `form-action 'self'`). For a
 * redirect_uri the client has registered (exact match), the page is replaced by ours: DSFR,
 * bilingual, the same hidden fields in a form to that exact URL with a button (it works without
 * JavaScript), sent on by our own script file (`script-src 'self'`), and a CSP whose
 * `form-action` names that exact URL and nothing else. Anything else keeps the library's page,
 * whose post the browser then refuses.
 */
export function installFormPost(provider: Provider, requests: WeakMap<IncomingMessage, FastifyRequest>): void {
  provider.use(async (ctx, next) => {
    await next();
    if (typeof ctx.body !== 'string' || !ctx.response.is('html')) return;
    // Undefined when the request failed before reaching one of the provider's routes.
    const oidc = ctx.oidc as KoaContextWithOIDC['oidc'] | undefined;
    if (oidc?.route !== 'authorization' && oidc?.route !== 'resume') return;
    const form = parseFormPost(ctx.body);
    const client = oidc.client;
    const request = requests.get(ctx.req);
    if (!form || !client || !request || !client.redirectUriAllowed(form.action)) return;
    ctx.body = formPostPage(request, form).toString();
    ctx.set('content-security-policy', policyWithFormActionTo(form.action));
    ctx.set('cache-control', 'no-store');
  });
}
