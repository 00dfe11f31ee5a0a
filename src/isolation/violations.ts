import type { Clock } from '../clock.ts';
import { newId } from '../crypto/random.ts';
import { system } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import { audit } from '../audit/log.ts';
import { closeAccessIn, type AccessState } from '../incident/access.ts';
import type { ViolationReason } from './errors.ts';

export interface TripwireSettings {
  /** Violations (all processes together) within the window that close citizen access. */
  threshold: number;
  windowSeconds: number;
}

export const DEFAULT_TRIPWIRE: TripwireSettings = { threshold: 3, windowSeconds: 300 };

export interface Violation {
  reason: ViolationReason;
  sessionId: string | null;
  /** The account the session lookup gave. */
  sessionAccountId: string | null;
  /** The account whose data was about to leave. */
  dataAccountId: string | null;
  requestId: string;
}

export interface RecordedViolation {
  /** Violations in the window, this one included, counted in the database (every process). */
  inWindow: number;
  /** Access as left by this violation: closed now if it reached the threshold. */
  closedNow: AccessState | null;
}

/**
 * Writes the violation, counts the window and closes citizen access at the threshold, in one
 * system transaction (the citizen one was rolled back). The access row is locked first, so
 * that violations recorded at once by several processes are counted one after the other and
 * the threshold cannot be stepped over unseen.
 */
export function recordViolation(db: Database, clock: Clock, settings: TripwireSettings, v: Violation): Promise<RecordedViolation> {
  return system(db, 'tripwire', async (tx) => {
    const now = clock.now();
    const since = new Date(now.getTime() - settings.windowSeconds * 1000);
    tx.send(`SELECT open FROM citizen_access FOR UPDATE`);
    tx.send(
      `INSERT INTO isolation_violations (id, occurred_at, reason, session_id, session_account_id, data_account_id, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [newId(), now, v.reason, v.sessionId, v.sessionAccountId, v.dataAccountId, v.requestId],
    );
    const { rows } = await tx.query<{ n: number; open: boolean }>(
      `SELECT (SELECT count(*)::int FROM isolation_violations WHERE occurred_at > $1 AND occurred_at <= $2) AS n, (SELECT open FROM citizen_access) AS open`,
      [since, now],
    );
    const inWindow = rows[0]?.n ?? 0;
    await audit(tx, clock, {
      type: 'isolation.violation',
      accountId: null,
      requestId: v.requestId,
      payload: { reason: v.reason, sessionId: v.sessionId, sessionAccountId: v.sessionAccountId, dataAccountId: v.dataAccountId, inWindow },
    });
    let closedNow: AccessState | null = null;
    if (rows[0]?.open && inWindow >= settings.threshold) {
      const change = await closeAccessIn(tx, clock, { by: { kind: 'tripwire' }, reason: `tripwire: ${inWindow} isolation violations within ${settings.windowSeconds} s` });
      if (change.changed) closedNow = change.state;
    }
    return { inWindow, closedNow };
  });
}

/** Violations recorded since `since`, all processes together (for `sesame access status`). */
export async function countViolations(db: Database, since: Date): Promise<number> {
  const { rows } = await system(db, 'access', (tx) => tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM isolation_violations WHERE occurred_at > $1`, [since]));
  return rows[0]?.n ?? 0;
}
