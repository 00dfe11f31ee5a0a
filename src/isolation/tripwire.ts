import type { FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import type { Session } from '../auth/sessions.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { rememberAccess } from '../incident/access-cache.ts';
import { IsolationViolationError, type ViolationReason } from './errors.ts';
import { markViolation } from './request-state.ts';
import { recordViolation, type TripwireSettings } from './violations.ts';

/** What the tripwire needs at request time; decorated on the app by isolationPlugin. */
export interface IsolationRuntime {
  db: Database;
  clock: Clock;
  tripwire: TripwireSettings;
  violations: Counter<'reason'> | null;
  /** Every route of the account area (method, URL template), for the fault-injection tests to walk. */
  accountRoutes: { method: string; url: string }[];
}

declare module 'fastify' {
  interface FastifyInstance {
    isolation?: IsolationRuntime;
  }
}

/**
 * A violation: the response is withheld (the caller throws), and operators learn of it at once:
 * a metric, a log line at error level (ids and reason only), an audit event, the count in the
 * database, and past the threshold citizen access closes for every process.
 */
export async function reportViolation(request: FastifyRequest, o: { reason: ViolationReason; session: Session | null; dataAccountId: string | null }): Promise<IsolationViolationError> {
  const error = new IsolationViolationError(o.reason);
  error.reported = true;
  markViolation(request, error);
  const runtime = request.server.isolation;
  runtime?.violations?.inc({ reason: o.reason });
  const ids = { reason: o.reason, reference: request.id, sessionId: o.session?.id ?? null, sessionAccountId: o.session?.accountId ?? null, dataAccountId: o.dataAccountId };
  if (!runtime) {
    request.log.error({ event: 'isolation.violation', ...ids }, 'isolation violation: response withheld (tripwire not installed: not counted)');
    return error;
  }
  try {
    const recorded = await recordViolation(runtime.db, runtime.clock, runtime.tripwire, {
      reason: o.reason,
      sessionId: ids.sessionId,
      sessionAccountId: ids.sessionAccountId,
      dataAccountId: ids.dataAccountId,
      requestId: request.id,
    });
    request.log.error({ event: 'isolation.violation', ...ids, inWindow: recorded.inWindow, threshold: runtime.tripwire.threshold }, 'isolation violation: response withheld');
    if (recorded.closedNow) {
      rememberAccess(runtime.db, recorded.closedNow);
      request.log.error({ event: 'access.closed', via: 'tripwire', inWindow: recorded.inWindow }, 'citizen access closed by the tripwire');
    }
  } catch (err) {
    // Still withheld; the database could not record it, so say so loudly.
    request.log.error({ event: 'isolation.violation', ...ids, err }, 'isolation violation: response withheld, NOT recorded');
  }
  return error;
}
