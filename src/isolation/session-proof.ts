import { timingSafeEqual } from 'node:crypto';
import type { Session } from '../auth/sessions.ts';
import type { Tx } from '../db/contexts.ts';
import type { ViolationReason } from './errors.ts';

interface ProofRow extends Record<string, unknown> {
  nir_index: Uint8Array;
  session_account: string | null;
}

/**
 * Null when the session is proven to be its account's: the session's row names that account
 * (in a citizen context, only its own rows are visible at all), and the NIR blind index typed
 * at login is the account's (constant-time comparison). One statement: callers pipeline it
 * with their own work.
 */
export async function identityViolation(tx: Tx, session: Session): Promise<ViolationReason | null> {
  const { rows } = await tx.query<ProofRow>(
    `SELECT a.nir_index, (SELECT s.account_id FROM sessions s WHERE s.id = $2) AS session_account FROM accounts a WHERE a.id = $1`,
    [session.accountId, session.id],
  );
  const row = rows[0];
  if (!row) return 'no-account';
  if (!sameBytes(row.nir_index, session.loginNirIndex)) return 'login-identifier-mismatch';
  if (row.session_account !== session.accountId) return 'session-not-owned';
  return null;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  // Blind indexes all have one length; a different one is a mismatch, never an exception.
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
