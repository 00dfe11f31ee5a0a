import type { Clock } from '../clock.ts';
import type { Tx } from '../db/contexts.ts';
import { audit } from '../audit/log.ts';
import type { MailFailureReason } from '../audit/catalogue.ts';

/**
 * The outbox row's state changes, for the worker. A row is `pending` until delivered
 * (`sent`, payload wiped) or given up on (`failed`). `attempts` doubles as a fencing token:
 * a worker only records a retry or a failure for the attempt it claimed, so a worker whose
 * lease ran out cannot overwrite what the one that took over decided.
 */
export interface ClaimedRow {
  id: string;
  accountId: string;
  template: string;
  payload: Uint8Array | null;
  /** This attempt's number (already counted). */
  attempts: number;
  lockedUntil: Date;
}

type Row = { id: string; account_id: string; template: string; payload: Uint8Array | null; attempts: number; locked_until: Date };

/**
 * Claims due messages. The lease (locked_until) and the raised attempt count are committed
 * before anything is sent: a worker that crashes mid-send leaves the row leased, so it is
 * retried after the lease, not lost, and a message that kills the worker uses up attempts
 * instead of spinning. SKIP LOCKED makes a concurrent claimer pass over rows being claimed
 * instead of waiting; once that claim commits, PostgreSQL rechecks the row under READ
 * COMMITTED and finds it leased, so two workers never hold the same message.
 */
export async function claimDue(tx: Tx, now: Date, leaseMs: number, limit: number, maxAttempts: number): Promise<ClaimedRow[]> {
  const { rows } = await tx.query<Row>(
    `WITH due AS (
       SELECT id FROM outbox
        WHERE status = 'pending' AND attempts < $4 AND next_attempt_at <= $1
          AND (locked_until IS NULL OR locked_until < $1)
        ORDER BY next_attempt_at, id LIMIT $3
        FOR UPDATE SKIP LOCKED)
     UPDATE outbox o SET attempts = o.attempts + 1, locked_until = $2
       FROM due WHERE o.id = due.id
     RETURNING o.id, o.account_id, o.template, o.payload, o.attempts, o.locked_until`,
    [now, new Date(now.getTime() + leaseMs), limit, maxAttempts],
  );
  return rows.map((r) => ({ id: r.id, accountId: r.account_id, template: r.template, payload: r.payload, attempts: r.attempts, lockedUntil: r.locked_until }));
}

/**
 * Gives up on due rows that already used every attempt: the last attempt's worker died
 * (lease expired: `interrupted`) or the limit was lowered since.
 */
export async function abandonExhausted(tx: Tx, clock: Clock, now: Date, limit: number, maxAttempts: number): Promise<number> {
  const { rows } = await tx.query<Row & { last_error: string | null; was_leased: boolean }>(
    `WITH due AS (
       SELECT id, locked_until IS NOT NULL AS was_leased FROM outbox
        WHERE status = 'pending' AND attempts >= $2 AND next_attempt_at <= $1
          AND (locked_until IS NULL OR locked_until < $1)
        LIMIT $3
        FOR UPDATE SKIP LOCKED)
     UPDATE outbox o SET status = 'failed', locked_until = NULL,
            last_error = CASE WHEN due.was_leased THEN 'interrupted' ELSE o.last_error END
       FROM due WHERE o.id = due.id
     RETURNING o.id, o.account_id, o.template, o.attempts, o.last_error, due.was_leased`,
    [now, maxAttempts, limit],
  );
  for (const r of rows) {
    await auditFailure(tx, clock, { id: r.id, accountId: r.account_id, template: r.template, attempts: r.attempts }, r.was_leased ? 'interrupted' : 'attempts-exhausted', r.last_error);
  }
  return rows.length;
}

type Ref = Pick<ClaimedRow, 'id' | 'accountId' | 'template' | 'attempts'>;

/** Delivered: whoever holds the lease now, the mail went out, so this is recorded unconditionally. */
export async function markSent(tx: Tx, clock: Clock, m: Ref): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE outbox SET status = 'sent', sent_at = $2, payload = NULL, locked_until = NULL, last_error = NULL
      WHERE id = $1 AND status = 'pending'`,
    [m.id, clock.now()],
  );
  if (rowCount !== 1) return false;
  await audit(tx, clock, { type: 'mail.sent', accountId: m.accountId, payload: { messageId: m.id, template: m.template, attempts: m.attempts } });
  return true;
}

export async function markRetry(tx: Tx, m: Ref, nextAttemptAt: Date, error: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE outbox SET next_attempt_at = $3, locked_until = NULL, last_error = $4
      WHERE id = $1 AND status = 'pending' AND attempts = $2`,
    [m.id, m.attempts, nextAttemptAt, error],
  );
  return rowCount === 1;
}

/** The payload stays (encrypted, shredded with the account) so that an operator could queue it again. */
export async function markFailed(tx: Tx, clock: Clock, m: Ref, reason: MailFailureReason, error: string | null): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE outbox SET status = 'failed', locked_until = NULL, last_error = $3
      WHERE id = $1 AND status = 'pending' AND attempts = $2`,
    [m.id, m.attempts, error ?? reason],
  );
  if (rowCount !== 1) return false;
  await auditFailure(tx, clock, m, reason, error);
  return true;
}

function auditFailure(tx: Tx, clock: Clock, m: Ref, reason: MailFailureReason, lastError: string | null): Promise<void> {
  return audit(tx, clock, {
    type: 'mail.failed',
    accountId: m.accountId,
    payload: { messageId: m.id, template: m.template, attempts: m.attempts, reason, lastError },
  });
}
