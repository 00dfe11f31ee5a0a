import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Database } from '../db/database.ts';
import { CANCEL_PATHS } from '../mail/templates/bank-details-changed.ts';
import { cachedAccess } from './access-cache.ts';
import { scopeOfPath } from './access-scope.ts';
import { AccessClosedError, readAccess, type AccessState } from './access.ts';
import { maintenanceBody, sendMaintenance } from './maintenance-page.ts';
import { isOidcAuthorization, isOidcMachineEndpoint, OIDC_OPEN_WHILE_CLOSED } from '../oidc/return-to.ts';

export interface AccessGateOptions {
  db: Database;
  /** How long this process may trust its copy of the flag (≤ 1 s). */
  cacheMs: number;
  retryAfterSeconds: number;
}

/**
 * What keeps working while access is closed: probes, metrics, static files, the OpenID
 * provider's public metadata, and what only takes access away — logging out (of Sésame or
 * from a service), a service revoking its tokens, and cancelling a held change of bank details
 * with the mailed code (a diverted payment is exactly what an incident may be about).
 */
const OPEN_EXACT = new Set(['/healthz', '/readyz', '/metrics', ...Object.values(CANCEL_PATHS), ...OIDC_OPEN_WHILE_CLOSED]);
const OPEN_PREFIXES = ['/dsfr/', '/assets/'];

const pathOf = (request: FastifyRequest): string => request.url.split('?', 1)[0] ?? '';

export function passesClosedAccess(request: FastifyRequest): boolean {
  const path = pathOf(request);
  if (OPEN_EXACT.has(path) || OPEN_PREFIXES.some((p) => path.startsWith(p))) return true;
  // The OIDC authorization endpoint answers a closed scope itself (src/oidc/closed.ts): the
  // service's redirect_uri with temporarily_unavailable once the client is validated.
  if (isOidcAuthorization(path)) return true;
  // The provider's server-to-server endpoints answer it too, JSON for a machine (machine-endpoints.ts).
  if (isOidcMachineEndpoint(path)) return true;
  return request.method === 'POST' && path === '/logout';
}

/**
 * The state of the scope this request belongs to (the console's under /console, the citizens'
 * everywhere else), through this process's short cache. For code that must answer a closed
 * scope its own way (issue 7's OIDC authorisation endpoint: see access-oidc.ts).
 */
export function accessFor(request: FastifyRequest, options: Pick<AccessGateOptions, 'db' | 'cacheMs'>): Promise<AccessState> {
  return cachedAccess(options.db, scopeOfPath(pathOf(request)), options.cacheMs, readAccess);
}

/**
 * The kill switch at the door: while a scope is closed, every path of it but the allow-list
 * (the console under /console for `staff`; the home page, login, activation, recovery,
 * step-up, device approval, confirmation, the account area, and any page added later for
 * `citizens`) answers the maintenance page before any handler, session lookup or body parsing
 * runs. An allow-list, so that a new page is closed by default.
 */
export const accessGate = fp(
  async (app: FastifyInstance, options: AccessGateOptions) => {
    app.addHook('onRequest', async (request, reply) => {
      if (passesClosedAccess(request)) return;
      const state = await accessFor(request, options);
      if (state.open) return;
      return sendMaintenance(request, reply, state, options.retryAfterSeconds);
    });

    // A step that found the flag closed itself (AccessClosedError: the login's steps read it
    // without a cache) answers the same page rather than a generic error.
    const refused = new WeakSet<FastifyRequest>();
    app.addHook('onError', async (request, _reply, error) => {
      if (error instanceof AccessClosedError) refused.add(request);
    });
    app.addHook('onSend', async (request, reply, payload) => {
      if (!refused.has(request) || reply.statusCode !== 503) return payload;
      refused.delete(request);
      const state = await readAccess(options.db, scopeOfPath(pathOf(request)));
      return maintenanceBody(request, reply, state, options.retryAfterSeconds);
    });
  },
  { name: 'sesame-access-gate' },
);
