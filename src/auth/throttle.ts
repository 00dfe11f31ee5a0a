import { hmac } from '../crypto/mac.ts';
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { Clock } from '../clock.ts';
import type { Tx } from '../db/contexts.ts';
import type { AuthPolicy } from './policy.ts';

/**
 * Password throttling, in the database so that it holds across server processes.
 *
 * An attempt is counted as a failure *before* the hash is computed and forgiven if the
 * password was right (the way principle 5 raises a code's counter before comparing): N
 * parallel guesses cannot all pass the check before the first failure is recorded.
 */
export type ThrottleVerdict =
  | { ok: true }
  | { ok: false; reason: 'client'; retryAt: Date }
  | { ok: false; reason: 'account-delay'; retryAt: Date }
  | { ok: false; reason: 'recovery-required' };

/** HMAC of the client address (personal data); IPv6 by /64, what one subscriber usually gets. */
export function clientKey(macKey: Buffer, ip: string): Buffer {
  return hmac(macKey, `client\u0000${isIPv6(ip) ? ipv6Prefix64(ip) : ip}`);
}

function ipv6Prefix64(ip: string): string {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4mapped?.[1]) return v4mapped[1];
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => g.padStart(4, '0')).join(':')}::/64`;
}

/** Delay imposed after the n-th consecutive failure: none for the first ones, then doubling, capped. */
export function accountDelaySeconds(policy: AuthPolicy, failures: number): number {
  if (failures < policy.accountFreeFailures) return 0;
  const doublings = Math.min(failures - policy.accountFreeFailures, 30);
  return Math.min(policy.accountMaxDelay, policy.accountBaseDelay * 2 ** doublings);
}

/**
 * Checks both throttles and, if the attempt may go on, counts it as a failure in advance.
 * `subject` is the NIR's blind index, or null when the NIR is malformed (only the client
 * counter applies then).
 */
export async function beginAttempt(tx: Tx, clock: Clock, policy: AuthPolicy, subject: Buffer | null, client: Buffer): Promise<ThrottleVerdict> {
  const now = clock.now();
  const windowStart = new Date(now.getTime() - policy.ipWindow * 1000);
  // Both rows are created if missing and locked, client first (the order forgiveAttempt
  // keeps), in one round trip. Without a row to lock, parallel first attempts would all read
  // "no failure" and write back the same count; the lock serialises them, and the upsert
  // returns the row as the previous holder left it.
  const [{ rows: c }, locked] = await Promise.all([
    tx.query<{ window_start: Date; failures: number }>(
      `INSERT INTO client_throttle AS t (client_key, window_start, failures) VALUES ($1, $2, 0)
       ON CONFLICT (client_key) DO UPDATE SET
         window_start = CASE WHEN t.window_start <= $3 THEN $2 ELSE t.window_start END,
         failures = CASE WHEN t.window_start <= $3 THEN 0 ELSE t.failures END
       RETURNING window_start, failures`,
      [client, now, windowStart],
    ),
    subject
      ? tx.query<{ consecutive_failures: number; blocked_until: Date | null }>(
          `INSERT INTO login_throttle AS t (subject, consecutive_failures, last_failure_at) VALUES ($1, 0, $2)
           ON CONFLICT (subject) DO UPDATE SET subject = t.subject RETURNING consecutive_failures, blocked_until`,
          [subject, now],
        )
      : null,
  ]);
  const clientRow = c[0] as { window_start: Date; failures: number };
  if (clientRow.failures >= policy.ipMaxFailures) {
    return { ok: false, reason: 'client', retryAt: new Date(clientRow.window_start.getTime() + policy.ipWindow * 1000) };
  }

  if (subject) {
    const row = locked?.rows[0];
    if (row && row.consecutive_failures >= policy.accountRecoveryAfter) return { ok: false, reason: 'recovery-required' };
    if (row?.blocked_until && row.blocked_until.getTime() > now.getTime()) return { ok: false, reason: 'account-delay', retryAt: row.blocked_until };
    const failures = (row?.consecutive_failures ?? 0) + 1;
    const delay = accountDelaySeconds(policy, failures);
    tx.send(`UPDATE login_throttle SET consecutive_failures = $2, last_failure_at = $3, blocked_until = $4 WHERE subject = $1`, [
      subject,
      failures,
      now,
      delay > 0 ? new Date(now.getTime() + delay * 1000) : null,
    ]);
  }
  tx.send(`UPDATE client_throttle SET failures = failures + 1 WHERE client_key = $1`, [client]);
  return { ok: true };
}

/** The password was right: the account counter starts again and the client is not blamed. */
export function forgiveAttempt(tx: Tx, subject: Buffer, client: Buffer): void {
  // Same lock order as beginAttempt (client row, then subject row): no deadlock between a
  // login being forgiven and another starting. The row is reset, not deleted, so that an
  // attempt waiting on its lock still finds it and counts.
  tx.send(`UPDATE client_throttle SET failures = greatest(failures - 1, 0) WHERE client_key = $1`, [client]);
  tx.send(`UPDATE login_throttle SET consecutive_failures = 0, blocked_until = NULL WHERE subject = $1`, [subject]);
}

/**
 * The counter of a NIR as tried from a browser that already logged in to its account (the
 * device cookie holds the account's mark). Someone trying passwords from elsewhere fills the
 * NIR's counter and delays only themselves; the owner's browser keeps its own.
 */
export const knownBrowserSubject = (macKey: Buffer, subject: Buffer): Buffer => hmac(macKey, `known-browser-throttle\u0000${subject.toString('hex')}`);

/** After a recovery or an activation by email code, the account may log in again, from anywhere. */
export async function clearAccountThrottle(tx: Tx, subject: Buffer, macKey?: Buffer): Promise<void> {
  const subjects = macKey ? [subject, knownBrowserSubject(macKey, subject)] : [subject];
  await tx.query(`DELETE FROM login_throttle WHERE subject = ANY($1::bytea[])`, [subjects]);
}

/**
 * Counts an activation or recovery request against the client, so these pages cannot be
 * used to probe NIRs at full speed. In a bucket of its own: fifty first connections from one
 * office (or one carrier-grade NAT) in a quarter of an hour must not close /login to it.
 */
export async function clientAllowed(tx: Tx, clock: Clock, policy: AuthPolicy, client: Buffer): Promise<ThrottleVerdict> {
  return beginAttempt(tx, clock, policy, null, createHash('sha256').update('requests\u0000').update(client).digest());
}
