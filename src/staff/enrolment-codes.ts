import { randomBytes, timingSafeEqual } from 'node:crypto';
import { audit } from '../audit/log.ts';
import type { Clock } from '../clock.ts';
import { CROCKFORD, encodeBase32 } from '../crypto/base32.ts';
import { hmac } from '../crypto/mac.ts';
import { newId } from '../crypto/random.ts';
import type { Tx } from '../db/contexts.ts';
import { STAFF_POLICY } from './policy.ts';

/**
 * One-time enrolment codes (DESIGN principle 5): 100 random bits, so guessing one is out of
 * reach without an attempt counter; only the HMAC is stored (a dump gives no usable code);
 * consumed with a guarded UPDATE, so two browsers racing with one code enrol once.
 */
const CODE = /^[0-9A-Z]{20}$/;

/** What the staff member types: groups of four, any case, dashes and spaces ignored. */
export const normaliseCode = (typed: string): string =>
  typed
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0')
    .slice(0, 40);

const codeMac = (macKey: Buffer, code: string): Buffer => hmac(macKey, `staff-enrolment-code\u0000${code}`);

export async function issueEnrolmentCode(tx: Tx, clock: Clock, macKey: Buffer, staffId: string, operator: string): Promise<{ id: string; code: string; expiresAt: Date }> {
  const code = encodeBase32(randomBytes(13), CROCKFORD).slice(0, 20);
  const id = newId();
  const now = clock.now();
  const expiresAt = new Date(now.getTime() + STAFF_POLICY.enrolmentCodeTtl * 1000);
  await tx.query(`INSERT INTO staff_enrolment_codes (id, staff_id, code_mac, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`, [id, staffId, codeMac(macKey, code), now, expiresAt]);
  await audit(tx, clock, { type: 'staff.enrolment-code-issued', accountId: null, payload: { staffId, codeId: id, expiresAt: expiresAt.toISOString() } }, operator);
  return { id, code: code.match(/.{4}/g)?.join('-') ?? code, expiresAt };
}

export type CodeCheck = { ok: true; codeId: string; staffId: string } | { ok: false; reason: 'malformed' | 'unknown' | 'used' | 'expired' | 'disabled' };

/** Whether a typed code can enrol now (not consumed: the passkey ceremony that follows consumes it). */
export async function checkEnrolmentCode(tx: Tx, clock: Clock, macKey: Buffer, typed: string): Promise<CodeCheck> {
  const code = normaliseCode(typed);
  if (!CODE.test(code)) return { ok: false, reason: 'malformed' };
  const mac = codeMac(macKey, code);
  const { rows } = await tx.query<{ id: string; staff_id: string; code_mac: Uint8Array; expires_at: Date; used_at: Date | null; disabled_at: Date | null }>(
    `SELECT c.id, c.staff_id, c.code_mac, c.expires_at, c.used_at, a.disabled_at FROM staff_enrolment_codes c JOIN staff_accounts a ON a.id = c.staff_id WHERE c.code_mac = $1`,
    [mac],
  );
  const row = rows[0];
  // The index found it by equality; compared again in constant time all the same.
  if (!row || !timingSafeEqual(Buffer.from(row.code_mac), mac)) return { ok: false, reason: 'unknown' };
  if (row.used_at !== null) return { ok: false, reason: 'used' };
  if (row.expires_at.getTime() <= clock.now().getTime()) return { ok: false, reason: 'expired' };
  if (row.disabled_at !== null) return { ok: false, reason: 'disabled' };
  return { ok: true, codeId: row.id, staffId: row.staff_id };
}

/** Consumes the code; false when it was used (or expired) meanwhile. */
export async function consumeEnrolmentCode(tx: Tx, clock: Clock, codeId: string): Promise<boolean> {
  const now = clock.now();
  const { rows } = await tx.query(`UPDATE staff_enrolment_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2 RETURNING id`, [codeId, now]);
  return rows.length === 1;
}
