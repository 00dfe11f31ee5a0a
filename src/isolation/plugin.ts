import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import type { ViolationReason } from './errors.ts';
import { peekState } from './request-state.ts';
import { reportViolation } from './tripwire.ts';
import type { TripwireSettings } from './violations.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's metrics registry (served at /metrics), when metrics are installed. */
    metricsRegistry?: Registry;
  }
}

export interface IsolationPluginOptions {
  db: Database;
  clock: Clock;
  tripwire: TripwireSettings;
}

/**
 * The identity tripwire's last check, as the response leaves: every account whose data it
 * carries (carries()) must be the account citizenRequest proved for this request's session.
 * A failure, or a violation raised earlier that a page caught, turns the response into the
 * error page (500, incident reference) before a byte of the body is sent.
 */
export const isolationPlugin = fp(
  async (app: FastifyInstance, options: IsolationPluginOptions) => {
    const violations = app.metricsRegistry
      ? new Counter({
          name: 'sesame_isolation_violations_total',
          help: 'Responses withheld by the identity tripwire, by reason code.',
          labelNames: ['reason'] as const,
          registers: [app.metricsRegistry],
        })
      : null;
    const accountRoutes: { method: string; url: string }[] = [];
    app.decorate('isolation', { db: options.db, clock: options.clock, tripwire: options.tripwire, violations, accountRoutes });
    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/account')) return;
      for (const method of [route.method].flat()) if (method !== 'HEAD') accountRoutes.push({ method, url: route.url });
    });

    const withheld = new WeakSet<FastifyRequest>();
    app.addHook('onSend', async (request, reply, payload) => {
      const state = peekState(request);
      if (!state || withheld.has(request)) return payload;
      if (state.violation) {
        // Raised by citizenRequest: the error page is on its way, unless a page caught it.
        if (reply.statusCode >= 500) return payload;
        withheld.add(request);
        throw state.violation;
      }
      if (state.carried.size === 0) return payload;
      const session = await request.session();
      const found = checkCarried([...state.carried], [...state.proven.values()], session?.accountId ?? null);
      if (!found) return payload;
      withheld.add(request);
      throw await reportViolation(request, { reason: found.reason, session, dataAccountId: found.dataAccountId });
    });
  },
  { name: 'sesame-isolation' },
);

/**
 * Null when every carried account is the one proven account of the request (and still the
 * session's, when there is one); else why not, and whose data it was.
 */
export function checkCarried(carried: string[], proven: string[], sessionAccountId: string | null): { reason: ViolationReason; dataAccountId: string | null } | null {
  const accounts = new Set(proven);
  const [account] = accounts;
  if (account === undefined) return { reason: 'carried-unproven', dataAccountId: carried[0] ?? null };
  const other = carried.find((id) => id !== account);
  if (accounts.size > 1) return { reason: 'carried-other-account', dataAccountId: other ?? account };
  if (other !== undefined) return { reason: 'carried-other-account', dataAccountId: other };
  if (sessionAccountId !== null && sessionAccountId !== account) return { reason: 'carried-other-account', dataAccountId: account };
  return null;
}
