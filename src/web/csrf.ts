import { timingSafeEqual } from 'node:crypto';
import { hmac } from '../crypto/mac.ts';
import { hostCookie } from './cookies.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { randomToken } from '../crypto/random.ts';
import { sendError } from './errors.ts';
import { html, type SafeHtml } from './html.ts';

/**
 * CSRF without server-side session: each browser gets a random secret in a __Host- cookie
 * (no subdomain can set or read it); a form carries HMAC(macKey, secret), which only this
 * server can compute. A page from another site can make the browser send the cookie but
 * cannot read it nor the token, so it cannot forge the field.
 */
export const CSRF_COOKIE = '__Host-sesame-csrf';
export const CSRF_FIELD = '_csrf';
/** For requests sent by our own scripts (WebAuthn ceremonies) with a JSON body. */
export const CSRF_HEADER = 'x-csrf-token';

const SECRET = /^[A-Za-z0-9_-]{43}$/;
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Computes tokens with the key ring's MAC key, so helpers need neither the key nor the ring. */
interface CsrfSigner {
  token(secret: string): string;
  binding(secret: string): string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false` only for endpoints that other sites call by design (OIDC back-channel). */
    csrf?: boolean;
  }
  interface FastifyInstance {
    csrfSigner: CsrfSigner;
  }
}

/** A secret created during this request, so that several forms on one page share it. */
const issued = new WeakMap<FastifyRequest, string>();

const mac = (key: Buffer, purpose: string, secret: string): string =>
  hmac(key, `${purpose}\u0000${secret}`).toString('base64url');

function cookieSecret(request: FastifyRequest): string | undefined {
  const value = request.cookies[CSRF_COOKIE];
  return value !== undefined && SECRET.test(value) ? value : undefined;
}

/** The browser's CSRF secret, created (and its cookie set) on first use. */
function secretFor(request: FastifyRequest, reply: FastifyReply): string {
  let secret = issued.get(request) ?? cookieSecret(request);
  if (!secret) {
    secret = randomToken(32);
    reply.setCookie(CSRF_COOKIE, secret, hostCookie());
  }
  issued.set(request, secret);
  return secret;
}

/**
 * A value that identifies this browser's CSRF secret without revealing it, for flows that
 * tie themselves to the browser that started them (DESIGN principle 4: CSRF binding).
 */
export function csrfBinding(request: FastifyRequest, reply: FastifyReply): string {
  return request.server.csrfSigner.binding(secretFor(request, reply));
}

/** The token to send back with an unsafe request (hidden field or X-CSRF-Token header). */
export function csrfToken(request: FastifyRequest, reply: FastifyReply): string {
  return request.server.csrfSigner.token(secretFor(request, reply));
}

/** The hidden field every form must contain. */
export function csrfField(request: FastifyRequest, reply: FastifyReply): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${csrfToken(request, reply)}">`;
}

function submittedToken(request: FastifyRequest): string | undefined {
  const header = request.headers[CSRF_HEADER];
  if (typeof header === 'string') return header;
  const body = request.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const field = (body as Record<string, unknown>)[CSRF_FIELD];
  return typeof field === 'string' ? field : undefined;
}

/** Whether the request carries this browser's token and was not sent from another site. */
export function csrfValid(request: FastifyRequest): boolean {
  // Defence in depth where browsers send it: our own forms are always same-origin.
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  const secret = cookieSecret(request);
  const submitted = submittedToken(request);
  if (!secret || !submitted) return false;
  const expected = Buffer.from(request.server.csrfSigner.token(secret));
  const given = Buffer.from(submitted);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Checks every POST/PUT/PATCH/DELETE before validation and the handler run, so handlers only
 * see genuine submissions and stay free to re-render their form on their own errors.
 */
export const csrfProtection = fp(
  async (app: FastifyInstance, options: { macKey: () => Buffer }) => {
    // Read at each use: the key ring may adopt a rewritten key file while running.
    app.decorate('csrfSigner', {
      token: (secret: string) => mac(options.macKey(), 'csrf', secret),
      binding: (secret: string) => mac(options.macKey(), 'csrf-binding', secret),
    });
    app.addHook('preValidation', async (request, reply) => {
      if (!UNSAFE.has(request.method) || request.is404 || request.routeOptions.config?.csrf === false) return;
      if (csrfValid(request)) return;
      request.log.warn({ event: 'csrf-rejected', route: request.routeOptions.url, secFetchSite: request.headers['sec-fetch-site'] }, 'CSRF check failed');
      return sendError(request, reply, 403, 'csrf');
    });
  },
  { name: 'sesame-csrf', dependencies: ['@fastify/cookie'] },
);
