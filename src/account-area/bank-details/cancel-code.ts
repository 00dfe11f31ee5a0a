import { timingSafeEqual } from 'node:crypto';
import { newRecoveryCode, normaliseRecoveryCode } from '../../auth/methods/recovery-codes.ts';
import type { Clock } from '../../clock.ts';
import { hmac } from '../../crypto/mac.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import { newId } from '../../crypto/random.ts';
import type { Tx } from '../../db/contexts.ts';

/**
 * The code mailed with a change of bank details, which cancels it without logging in
 * (DESIGN principle 5): 10 base32 characters (50 bits, shown XXXXX-XXXXX like a recovery
 * code), stored as HMAC(row id, code), failures raised before comparing and capped, compared
 * in constant time, consumed with a guarded UPDATE, dead once the hold is over.
 */

/** 50 bits: the cap is about abuse, not guessing (10 tries at 2^-50 each). */
export const CANCEL_CODE_MAX_FAILURES = 10;
export const CANCEL_CODE_PATTERN = /^[A-Z2-7]{10}$/;

const codeMac = (ring: KeyRing, rowId: string, code: string): Buffer => hmac(ring.macKey, `bank-cancel-code\u0000${rowId}\u0000${code}`);

/** As typed: case, spaces and dashes do not matter (the recovery codes' rules). */
export const normaliseCancelCode = normaliseRecoveryCode;

/**
 * A new code for the change `eventId`, which works until `expiresAt` (the end of its hold).
 * Whatever code the account had left stops working in the same statement. Returns the code
 * in clear, for the mail only.
 */
export function issueCancelCode(tx: Tx, deps: { ring: KeyRing; clock: Clock }, input: { accountId: string; eventId: string; expiresAt: Date }): string {
  const code = newRecoveryCode();
  const id = newId();
  const now = deps.clock.now();
  tx.send(
    `WITH revoked AS (UPDATE bank_change_cancel_codes SET revoked_at = $5 WHERE account_id = $2 AND used_at IS NULL AND revoked_at IS NULL)
     INSERT INTO bank_change_cancel_codes (id, account_id, event_id, code_mac, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [id, input.accountId, input.eventId, codeMac(deps.ring, id, normaliseCancelCode(code)), now, input.expiresAt],
  );
  return code;
}

/** The change was cancelled from the account: its code is of no more use. */
export function revokeCancelCode(tx: Tx, clock: Clock, eventId: string): void {
  tx.send(`UPDATE bank_change_cancel_codes SET revoked_at = $2 WHERE event_id = $1 AND used_at IS NULL AND revoked_at IS NULL`, [eventId, clock.now()]);
}

export type RedeemRefusal = 'no-code' | 'wrong' | 'exhausted' | 'too-late';

/**
 * The code typed for this account (system context: nobody is logged in). `too-late` is only
 * told to whoever typed the right code. The caller cancels the change in the same
 * transaction, so the code is used if and only if the change is cancelled.
 */
export async function redeemCancelCode(
  tx: Tx,
  deps: { ring: KeyRing; clock: Clock },
  accountId: string,
  typed: string,
): Promise<{ ok: true; eventId: string } | { ok: false; reason: RedeemRefusal; failures: number | null }> {
  const code = normaliseCancelCode(typed);
  const { rows } = await tx.query<{ id: string; event_id: string; code_mac: Uint8Array; expires_at: Date }>(
    `SELECT id, event_id, code_mac, expires_at FROM bank_change_cancel_codes WHERE account_id = $1 AND used_at IS NULL AND revoked_at IS NULL FOR UPDATE`,
    [accountId],
  );
  const row = rows[0];
  if (!row) {
    // The same work as a comparison: the answer's timing does not tell whether a change is held.
    codeMac(deps.ring, accountId, code);
    return { ok: false, reason: 'no-code', failures: null };
  }
  // Raised before comparing, guarded by the cap (the row is locked; the UPDATE re-checks).
  const raised = await tx.query<{ failures: number }>(
    `UPDATE bank_change_cancel_codes SET failures = failures + 1 WHERE id = $1 AND failures < $2 RETURNING failures`,
    [row.id, CANCEL_CODE_MAX_FAILURES],
  );
  const failures = raised.rows[0]?.failures;
  if (failures === undefined) return { ok: false, reason: 'exhausted', failures: CANCEL_CODE_MAX_FAILURES };
  if (!timingSafeEqual(Buffer.from(row.code_mac), codeMac(deps.ring, row.id, code))) return { ok: false, reason: failures >= CANCEL_CODE_MAX_FAILURES ? 'exhausted' : 'wrong', failures };
  if (row.expires_at.getTime() <= deps.clock.now().getTime()) return { ok: false, reason: 'too-late', failures };
  const used = await tx.query(
    `UPDATE bank_change_cancel_codes SET used_at = $2, failures = failures - 1 WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL RETURNING id`,
    [row.id, deps.clock.now()],
  );
  if (used.rows.length !== 1) return { ok: false, reason: 'no-code', failures };
  return { ok: true, eventId: row.event_id };
}
