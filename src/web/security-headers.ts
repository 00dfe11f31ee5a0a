import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Strict CSP: no inline script or style anywhere (DESIGN principle 11). `img-src data:` is
 * for the DSFR stylesheet, which draws some icons and controls as data: SVG images.
 * `form-action 'self'` also applies to redirects after a form post in Chromium: a later
 * endpoint that answers a POST with a redirect to another origin will need its own policy.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const STATIC_CACHE_CONTROL = 'public, max-age=31536000, immutable';

const staticAssets = new WeakSet<FastifyReply>();
const formTargets = new WeakMap<FastifyReply, string>();

/**
 * For a page whose forms end, after redirects, at another origin (the OIDC consent page: the
 * service's registered redirect_uri): Chromium applies form-action to every redirect that
 * follows a form post. The origin must come from validated data, never from the request.
 */
export function allowFormActionTo(reply: FastifyReply, url: string): void {
  formTargets.set(reply, new URL(url).origin);
}

/** Called by the static file server for files it actually serves (200, 206, 304). */
export function markStaticAsset(reply: FastifyReply): void {
  staticAssets.add(reply);
  reply.header('cache-control', STATIC_CACHE_CONTROL);
}

export interface SecurityHeadersOptions {
  production: boolean;
}

/**
 * The headers every response carries, the Content-Security-Policy aside (a page may open its
 * form-action) and Cache-Control aside (static assets are cached).
 */
const COMMON_HEADERS: readonly (readonly [string, string])[] = [
  ['x-content-type-options', 'nosniff'],
  // no-referrer: our paths carry flow ids and the links we show lead to other sites that
  // have no need to know where the citizen came from. Nothing here reads Referer or Origin
  // (which no-referrer sets to "null" on POST): CSRF rests on the token and Sec-Fetch-Site.
  ['referrer-policy', 'no-referrer'],
  ['x-frame-options', 'DENY'],
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()'],
];
const PRODUCTION_HEADERS = [...COMMON_HEADERS, ['strict-transport-security', 'max-age=63072000; includeSubDomains'] as const];
const commonHeaders = (production: boolean): readonly (readonly [string, string])[] => (production ? PRODUCTION_HEADERS : COMMON_HEADERS);

/** Sets the headers every response carries; called from onSend, and directly where hooks do not run. */
export function applySecurityHeaders(reply: FastifyReply, options: SecurityHeadersOptions): void {
  const target = formTargets.get(reply);
  reply.header('content-security-policy', target ? CONTENT_SECURITY_POLICY.replace("form-action 'self'", `form-action 'self' ${target}`) : CONTENT_SECURITY_POLICY);
  for (const [name, value] of commonHeaders(options.production)) reply.header(name, value);
  // Nothing but a static asset is ever stored by a browser or a shared cache: pages, JSON,
  // errors, redirects and metrics may all be personal. `private` and `Vary: Cookie` for any
  // cache in between that ignores no-store: it must never hand one citizen's page to another.
  if (!staticAssets.has(reply)) {
    reply.header('cache-control', PERSONAL_CACHE_CONTROL);
    reply.header('vary', withCookie(reply.getHeader('vary')));
  }
}

/** The same headers, for a response written without Fastify (raw-routes.ts): never a page, never a static asset. */
export function applySecurityHeadersRaw(res: ServerResponse, options: SecurityHeadersOptions): void {
  res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  for (const [name, value] of commonHeaders(options.production)) res.setHeader(name, value);
  res.setHeader('cache-control', PERSONAL_CACHE_CONTROL);
  res.setHeader('vary', 'Cookie');
}

export const PERSONAL_CACHE_CONTROL = 'no-store, private';

function withCookie(vary: ReturnType<FastifyReply['getHeader']>): string {
  const values = (Array.isArray(vary) ? vary.join(',') : typeof vary === 'string' ? vary : '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (values.includes('*') || values.some((v) => v.toLowerCase() === 'cookie')) return values.join(', ');
  return [...values, 'Cookie'].join(', ');
}

export const securityHeaders = fp(
  async (app: FastifyInstance, options: SecurityHeadersOptions) => {
    app.addHook('onSend', async (_request, reply, payload) => {
      applySecurityHeaders(reply, options);
      return payload;
    });
  },
  { name: 'sesame-security-headers' },
);
