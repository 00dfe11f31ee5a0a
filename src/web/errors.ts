import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { html } from './html.ts';
import { localeOf, t } from './i18n.ts';
import { sendPage, siteOf } from './layout.ts';

export type ErrorKind = 'notFound' | 'badRequest' | 'csrf' | 'client' | 'server';

const JSON_CODES: Record<ErrorKind, string> = {
  notFound: 'not_found',
  badRequest: 'bad_request',
  csrf: 'csrf_rejected',
  client: 'request_refused',
  server: 'server_error',
};

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route answers JSON, errors included (health checks, APIs). */
    json?: boolean;
  }
}

/** JSON routes, and clients that ask for JSON rather than HTML, get JSON errors. */
export function wantsJson(request: FastifyRequest): boolean {
  if (request.routeOptions.config?.json === true) return true;
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/**
 * An error answer in the request's language: a DSFR page, or `{ error, reference }` as JSON.
 * The reference is the request id, which is in every log line of the request. `detail` (a
 * stack) is only passed in development.
 */
export function sendError(request: FastifyRequest, reply: FastifyReply, status: number, kind: ErrorKind, detail?: string): FastifyReply {
  const reference = request.id;
  if (wantsJson(request)) return reply.code(status).type('application/json; charset=utf-8').send({ error: JSON_CODES[kind], reference });
  const locale = localeOf(request);
  const title = t(locale, `error.${kind}.title`);
  const main = html`<div class="fr-my-7w fr-mt-md-12w fr-mb-md-10w fr-grid-row fr-grid-row--gutters fr-grid-row--center">
  <div class="fr-py-0 fr-col-12 fr-col-md-8">
    <h1>${title}</h1>
    <p class="fr-text--sm fr-mb-3w">${t(locale, 'error.code', { status })}</p>
    <p class="fr-text--lead fr-mb-3w">${t(locale, `error.${kind}.lead`)}</p>
    <p class="fr-text--sm fr-mb-5w">${t(locale, `error.${kind}.body`)}</p>
    ${kind === 'server' && html`<p>${t(locale, 'error.reference')} <span class="sesame-reference" id="incident-reference">${reference}</span></p>`}
    ${detail && html`<pre class="sesame-stack" tabindex="0">${detail}</pre>`}
    <ul class="fr-btns-group fr-btns-group--inline-md"><li><a class="fr-btn" href="/">${t(locale, 'error.backHome')}</a></li></ul>
  </div>
</div>`;
  return sendPage(reply, { request, locale, title, main, status });
}

function kindOf(status: number): ErrorKind {
  if (status >= 500) return 'server';
  if (status === 400) return 'badRequest';
  if (status === 404) return 'notFound';
  return 'client';
}

/** Root-level 404 and error handlers; registered once, they serve every area. */
export const errorPages = fp(
  async (app: FastifyInstance) => {
    app.setNotFoundHandler((request, reply) => sendError(request, reply, 404, 'notFound'));

    app.setErrorHandler((error: FastifyError, request, reply) => {
      const declared = error.statusCode ?? 500;
      const status = declared >= 400 && declared < 600 ? declared : 500;
      if (status >= 500) request.log.error({ err: error, reference: request.id }, 'request failed');
      else request.log.info({ code: error.code, statusCode: status }, 'request refused');
      // In production neither the message nor the stack leaves the server: they may name
      // tables, files or values.
      const detail = siteOf(request).production ? undefined : (error.stack ?? error.message);
      return sendError(request, reply, status, kindOf(status), detail);
    });
  },
  { name: 'sesame-error-pages' },
);
