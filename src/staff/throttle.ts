import { createHash } from 'node:crypto';
import { clientKey } from '../auth/throttle.ts';
import type { Clock } from '../clock.ts';
import type { Tx } from '../db/contexts.ts';
import { STAFF_POLICY } from './policy.ts';

/**
 * The console's throttles, in the citizens' `client_throttle` table (migration 005) so that they
 * hold across server processes, each in a bucket of its own: a key derived from the client's
 * HMAC (or the staff member's id) that no citizen counter can have.
 *
 * - per client address: failed enrolment codes and failed logins at /console. Counted before
 *   any lookup and forgiven when the attempt succeeds (the citizens' way): parallel guesses
 *   cannot all pass the check before the first failure is written. Once throttled, even the
 *   right code or passkey is refused until the window ends.
 * - per staff account: failed passkey assertions naming one of its passkeys. Reaching the cap
 *   refuses that account's assertions until the window ends, nothing longer: no account is
 *   suspended, and each refusal is audited (`staff.refused`, reason `throttled`).
 */
export type StaffThrottleVerdict = { ok: true } | { ok: false; retryAt: Date };

const bucket = (label: string, key: Buffer | string): Buffer => createHash('sha256').update(`console-${label}\u0000`).update(key).digest();

/** The bucket of a client address (its HMAC, never the address itself). */
export const consoleClientBucket = (macKey: Buffer, ip: string): Buffer => bucket('client', clientKey(macKey, ip));

/** The bucket of a staff account's failed assertions. */
export const staffAccountBucket = (staffId: string): Buffer => bucket('staff', staffId);

/**
 * Locks the bucket's row (created if missing, reset if its window ended) and reads it; with
 * `count`, the attempt is counted as a failure in advance when it may go on.
 */
async function take(tx: Tx, clock: Clock, key: Buffer, max: number, windowSeconds: number, count: boolean): Promise<StaffThrottleVerdict> {
  const now = clock.now();
  const windowStart = new Date(now.getTime() - windowSeconds * 1000);
  const { rows } = await tx.query<{ window_start: Date; failures: number }>(
    `INSERT INTO client_throttle AS t (client_key, window_start, failures) VALUES ($1, $2, 0)
     ON CONFLICT (client_key) DO UPDATE SET
       window_start = CASE WHEN t.window_start <= $3 THEN $2 ELSE t.window_start END,
       failures = CASE WHEN t.window_start <= $3 THEN 0 ELSE t.failures END
     RETURNING window_start, failures`,
    [key, now, windowStart],
  );
  const row = rows[0] as { window_start: Date; failures: number };
  if (row.failures >= max) return { ok: false, retryAt: new Date(row.window_start.getTime() + windowSeconds * 1000) };
  if (count) tx.send(`UPDATE client_throttle SET failures = failures + 1 WHERE client_key = $1`, [key]);
  return { ok: true };
}

/** Before an enrolment code or a login assertion is looked at: refused, or counted as a failure in advance. */
export function beginConsoleAttempt(tx: Tx, clock: Clock, client: Buffer): Promise<StaffThrottleVerdict> {
  return take(tx, clock, client, STAFF_POLICY.clientMaxFailures, STAFF_POLICY.throttleWindow, true);
}

/** Whether the client may start a login at all (nothing counted). */
export function consoleClientAllowed(tx: Tx, clock: Clock, client: Buffer): Promise<StaffThrottleVerdict> {
  return take(tx, clock, client, STAFF_POLICY.clientMaxFailures, STAFF_POLICY.throttleWindow, false);
}

/** The attempt succeeded: the client is not blamed for it. */
export function forgiveConsoleAttempt(tx: Tx, client: Buffer): void {
  tx.send(`UPDATE client_throttle SET failures = greatest(failures - 1, 0) WHERE client_key = $1`, [client]);
}

/** Whether a staff account's passkeys may be tried now (checked before the signature). */
export function staffAssertionAllowed(tx: Tx, clock: Clock, staffId: string): Promise<StaffThrottleVerdict> {
  return take(tx, clock, staffAccountBucket(staffId), STAFF_POLICY.staffMaxFailures, STAFF_POLICY.throttleWindow, false);
}

/** A failed assertion naming one of the account's passkeys; returns the count in the window. */
export async function countStaffFailure(tx: Tx, clock: Clock, staffId: string): Promise<number> {
  const key = staffAccountBucket(staffId);
  await take(tx, clock, key, Number.MAX_SAFE_INTEGER, STAFF_POLICY.throttleWindow, false);
  const { rows } = await tx.query<{ failures: number }>(`UPDATE client_throttle SET failures = failures + 1 WHERE client_key = $1 RETURNING failures`, [key]);
  return rows[0]?.failures ?? 0;
}

/** Seconds to put in Retry-After (at least one). */
export const retryAfterSeconds = (clock: Clock, retryAt: Date): number => Math.max(1, Math.ceil((retryAt.getTime() - clock.now().getTime()) / 1000));
