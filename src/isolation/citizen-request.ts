import type { FastifyRequest } from 'fastify';
import type { Session } from '../auth/sessions.ts';
import type { Clock } from '../clock.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import { citizen, type Tx } from '../db/contexts.ts';
import type { Database, Row } from '../db/database.ts';
import { IsolationViolationError, NoSessionError } from './errors.ts';
import { carriedBy, markVerified } from './request-state.ts';
import { identityViolation } from './session-proof.ts';
import { reportViolation } from './tripwire.ts';

export { IsolationViolationError, NoSessionError } from './errors.ts';

export interface CitizenRequestDeps {
  db: Database;
  ring: KeyRing;
  clock: Clock;
}

/**
 * Runs fn in the citizen context of the request's session (RLS); in the same transaction it proves
 * that the session's login identifier (NIR blind index recorded at login) still names this account.
 * Throws IsolationViolationError (transaction rolled back: nothing changed) otherwise.
 *
 * The proof is the first statement of the transaction and fn's queries are pipelined behind it:
 * no extra round trip, and fn never receives a row before the proof has passed (its query
 * results are held until then).
 */
export async function citizenRequest<T>(deps: CitizenRequestDeps, request: FastifyRequest, fn: (tx: Tx, session: Session) => Promise<T>): Promise<T> {
  const session = await request.session();
  if (!session) throw new NoSessionError();
  try {
    const result = await citizen(deps.db, session.accountId, async (tx) => {
      const proof = identityViolation(tx, session);
      // Observed at once so that a failed proof is never an unhandled rejection while fn runs.
      const gate = proof.then((reason) => {
        if (reason) throw new IsolationViolationError(reason);
      });
      gate.catch(() => undefined);
      const gated: Tx = {
        context: tx.context,
        beforeCommit: (task) => tx.beforeCommit(task),
        send: (sql, params) => tx.send(sql, params),
        query: async <R extends Row = Row>(sql: string, params?: readonly unknown[]) => {
          const pending = tx.query<R>(sql, params);
          pending.catch(() => undefined);
          await gate;
          return pending;
        },
      };
      let value: T;
      try {
        value = await fn(gated, session);
      } catch (err) {
        await gate; // a failed proof wins over whatever fn made of it
        throw err;
      }
      await gate;
      return value;
    });
    markVerified(request, session);
    return result;
  } catch (err) {
    if (err instanceof IsolationViolationError && !err.reported) throw await reportViolation(request, { reason: err.reason, session, dataAccountId: session.accountId });
    throw err;
  }
}

/**
 * The response about to be sent carries data of these accounts (ids read from the rows): the
 * tripwire checks them before sending.
 */
export function carries(request: FastifyRequest, ...accountIds: string[]): void {
  const set = carriedBy(request);
  for (const id of accountIds) set.add(id);
}
