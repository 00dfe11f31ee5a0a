import type { IncomingMessage, RequestListener } from 'node:http';
import type { Database } from '../db/database.ts';
import { cachedAccess } from '../incident/access-cache.ts';
import { scopeOfPath } from '../incident/access-scope.ts';
import { readAccess } from '../incident/access.ts';
import type { RawHandler } from '../web/raw-routes.ts';
import { applySecurityHeadersRaw } from '../web/security-headers.ts';
import { OIDC_OPEN_WHILE_CLOSED } from './return-to.ts';

export interface MachineEndpointOptions {
  /** The provider's Koa app (`provider.callback()`). */
  callback: RequestListener;
  db: Database;
  access: { cacheMs: number; retryAfterSeconds: number };
  production: boolean;
  /** Our request id of each provider request, for the audit events it causes (audit.ts). */
  requestIds: WeakMap<IncomingMessage, string>;
  onError(err: unknown, requestId: string): void;
}

const OPEN_WHILE_CLOSED = new Set(OIDC_OPEN_WHILE_CLOSED);

/**
 * The token, userinfo, revocation, introspection and JWKS endpoints (OIDC_MACHINE_ENDPOINTS):
 * the provider alone, behind our security headers and the access gate. No cookie, session,
 * language or CSRF of ours is involved (services authenticate to the provider itself), so the
 * citizen pages' hooks are not run: served from raw-routes.ts on a listening server, and as a
 * hijacked Fastify route under inject().
 *
 * While citizen access is closed, what hands out citizen data (token, userinfo, introspection)
 * answers 503 `temporarily_unavailable` as JSON with Retry-After: a service's server reads
 * JSON, not our maintenance page. Never throws: an error of ours is logged and answered 500.
 */
export function machineEndpoint(o: MachineEndpointOptions): RawHandler {
  return async (req, res, requestId) => {
    try {
      applySecurityHeadersRaw(res, { production: o.production });
      const path = (req.url ?? '').split('?', 1)[0] ?? '';
      if (!OPEN_WHILE_CLOSED.has(path)) {
        const state = await cachedAccess(o.db, scopeOfPath(path), o.access.cacheMs, readAccess);
        if (!state.open) {
          res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(o.access.retryAfterSeconds) });
          res.end(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'the service is closed for now, try again later' }));
          return;
        }
      }
      o.requestIds.set(req, requestId);
      // Koa answers its own errors (the provider's error handler, then Koa's 500).
      await o.callback(req, res);
    } catch (err) {
      o.onError(err, requestId);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'server_error' }));
    }
  };
}
