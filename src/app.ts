import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { accountArea } from './account-area/routes.ts';
import { bankCancelByCodeRoutes } from './account-area/bank-details/cancel-by-code.ts';
import { consoleArea } from './console/plugin.ts';
import type { AppDeps } from './app-deps.ts';
import type { AuthDeps } from './auth/auth-deps.ts';
import { argon2Hasher, PasswordVerifier } from './auth/methods/password.ts';
import { authArea } from './auth/plugin.ts';
import { sessionPlugin } from './auth/session-plugin.ts';
import { accessGate } from './incident/access-gate.ts';
import { isolationPlugin } from './isolation/plugin.ts';
import { ephemeralSigningKeys, oidcProvider } from './oidc/mount.ts';
import { createOidcStore } from './oidc/adapter.ts';
import { systemClock } from './clock.ts';
import { csrfProtection } from './web/csrf.ts';
import { errorPages, sendError } from './web/errors.ts';
import { health } from './web/health.ts';
import { i18nPlugin } from './web/i18n.ts';
import { httpMetrics } from './web/metrics.ts';
import { homePage } from './web/pages/home.ts';
import { RawRoutes } from './web/raw-routes.ts';
import { RequestLog, newRequestId } from './web/request-log.ts';
import { applySecurityHeaders, securityHeaders } from './web/security-headers.ts';
import { staticFiles } from './web/static.ts';
import { placeFinder } from './web/place.ts';

/** Hop counts as a function (what proxy-addr does for a number), lists as they are. */
function trustProxy(setting: false | number | string[]): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof setting === 'number' ? (_address, hop) => hop < setting : setting;
}

/**
 * The Fastify app, not listening and not ready: callers (the start command, tests, later
 * areas) may still add routes, then `listen()` or `inject()`. Shared infrastructure (hooks,
 * error pages) is registered first at the root so that every route added later gets it;
 * each area is an encapsulated plugin.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const production = deps.config.env === 'production';
  const rawRoutes = new RawRoutes();
  const app = Fastify({
    serverFactory: rawRoutes.serverFactory,
    // Widened to Fastify's logger type so the instance is a plain FastifyInstance for plugins.
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: newRequestId,
    requestIdHeader: false,
    logController: new RequestLog(),
    trustProxy: trustProxy(deps.config.trustProxy),
    return503OnClosing: true,
    // Malformed URLs (`/%zz`) are refused before routing, where no hook runs: answer them
    // like any bad request, headers included.
    frameworkErrors: (error, request, reply) => {
      applySecurityHeaders(reply, { production });
      return sendError(request, reply, 400, 'badRequest', production ? undefined : error.message);
    },
  });
  app.decorate('site', { serviceName: deps.config.serviceName, production });

  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  await app.register(securityHeaders, { production });
  await app.register(httpMetrics, { token: deps.config.metricsToken });
  rawRoutes.wire(deps.logger, app.httpRequestMetrics, production);
  app.addHook('preClose', async () => rawRoutes.closing());
  await app.register(i18nPlugin);
  await app.register(errorPages);
  // Before every other hook and route: the kill switch answers first, the tripwire checks last.
  const isolation = deps.config.isolation;
  await app.register(accessGate, { db: deps.db, cacheMs: isolation.accessCacheMs, retryAfterSeconds: isolation.maintenanceRetryAfter });
  await app.register(isolationPlugin, { db: deps.db, clock: deps.clock, tripwire: isolation.tripwire });
  await app.register(csrfProtection, { macKey: () => deps.ring.macKey });

  await app.register(staticFiles);
  await app.register(health, { db: deps.db });
  await app.register(homePage);

  const policy = deps.config.auth;
  await app.register(sessionPlugin, { db: deps.db, clock: deps.clock, policy, fault: isolation.faultInjection });
  const auth: AuthDeps = {
    db: deps.db,
    ring: deps.ring,
    clock: deps.clock,
    policy,
    verifier: new PasswordVerifier(deps.hasher ?? argon2Hasher(policy.argon2)),
    timeZone: deps.config.timeZone,
    webauthn: deps.config.webauthn,
    places: placeFinder(deps.config.geoipDatabase ?? undefined),
  };
  app.addHook('onReady', () => auth.verifier.prepare());
  await app.register(authArea, auth);
  // Public: cancels a held change of bank details with the mailed code, without a session.
  await app.register(bankCancelByCodeRoutes, auth);
  // The security page checks passwords with the login's verifier and throttle policy.
  // The provider's store, shared with the account area: withdrawing a consent waits for the provider's saves under way.
  // The provider reads time from Date: its storage must agree (docs/integration.md).
  const oidcStore = createOidcStore({ db: deps.db, ring: deps.ring, clock: systemClock, onBatchFallback: (err, rows) => app.log.error({ err, rows }, 'oidc saves retried one by one') });
  await app.register(accountArea, { ...auth, bankHoldSeconds: deps.config.bankHoldSeconds, oidcStore });
  await app.register(consoleArea, { db: deps.db, ring: deps.ring, clock: deps.clock, webauthn: deps.config.webauthn, timeZone: deps.config.timeZone });
  // The OpenID Provider: discovery at the root of the public origin, endpoints and interactions under /oidc.
  if (production && !deps.oidcSigningKeys) deps.logger.warn({ event: 'oidc-ephemeral-signing-key' }, 'no OIDC signing keys given: an ephemeral key signs ID tokens');
  await app.register(oidcProvider, {
    auth,
    store: oidcStore,
    issuer: deps.config.publicUrl.origin,
    signingKeys: deps.oidcSigningKeys ?? ephemeralSigningKeys(),
    lifetimes: deps.config.oidcLifetimes,
    ...(deps.onOidcProvider ? { onProvider: deps.onOidcProvider } : {}),
    production,
    behindProxy: deps.config.trustProxy !== false,
    access: { cacheMs: isolation.accessCacheMs, retryAfterSeconds: isolation.maintenanceRetryAfter },
    suspicious: deps.config.oidcSuspicious,
    rawRoutes,
  });
  return app;
}
