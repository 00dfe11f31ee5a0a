import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { checkAssertion, credentialIdOf, type RegistrationResult, type StoredPasskey, type WebAuthnConfig } from '../auth/methods/passkey.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../crypto/random.ts';
import type { Tx } from '../db/contexts.ts';
import { staffAssertionAllowed } from './throttle.ts';

/**
 * Staff passkeys, in their own table. Options and attestations go through the citizens'
 * helpers (src/auth/methods/passkey.ts: registrationOptions, verifyRegistration,
 * authenticationOptions) and checkAssertion (signature, user verification, counter); only
 * the table and its guarded counter UPDATE are this file's.
 */
export interface StaffPasskey {
  id: string;
  staffId: string;
  credentialId: Buffer;
  publicKey: Buffer;
  counter: number;
  transports: string[] | null;
  staffActive: boolean;
}

interface Row extends Record<string, unknown> {
  id: string;
  staff_id: string;
  credential_id: Uint8Array;
  public_key: Uint8Array;
  counter: string;
  transports: string[] | null;
  disabled_at: Date | null;
}

// counter::text: the one type both drivers give back alike for a bigint.
const SELECT = `SELECT p.id, p.staff_id, p.credential_id, p.public_key, p.counter::text AS counter, p.transports, a.disabled_at
  FROM staff_passkeys p JOIN staff_accounts a ON a.id = p.staff_id`;

const toPasskey = (r: Row): StaffPasskey => ({
  id: r.id,
  staffId: r.staff_id,
  credentialId: Buffer.from(r.credential_id),
  publicKey: Buffer.from(r.public_key),
  counter: Number(r.counter),
  transports: r.transports,
  staffActive: r.disabled_at === null,
});

export async function staffPasskeys(tx: Tx, staffId: string): Promise<StaffPasskey[]> {
  const { rows } = await tx.query<Row>(`${SELECT} WHERE p.staff_id = $1 ORDER BY p.created_at`, [staffId]);
  return rows.map(toPasskey);
}

/** The shape the citizens' option helpers take (they only read the credential id and transports). */
export const asDescriptor = (p: StaffPasskey): StoredPasskey => ({
  authenticatorId: p.id,
  accountId: p.staffId,
  credentialId: p.credentialId,
  publicKey: p.publicKey,
  counter: p.counter,
  transports: p.transports,
  accountActive: p.staffActive,
});

export async function storeStaffPasskey(tx: Tx, clock: Clock, staffId: string, c: Extract<RegistrationResult, { ok: true }>): Promise<string> {
  const id = newId();
  await tx.query(`INSERT INTO staff_passkeys (id, staff_id, credential_id, public_key, counter, transports, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
    id,
    staffId,
    c.credentialId,
    c.publicKey,
    c.counter,
    c.transports,
    clock.now(),
  ]);
  return id;
}

export type StaffAssertion =
  | { ok: true; passkey: StaffPasskey }
  | { ok: false; reason: 'unknown-credential' | 'other-staff' | 'disabled' | 'invalid' | 'signature' | 'counter'; staffId: string | null }
  | { ok: false; reason: 'throttled'; staffId: string; retryAt: Date };

/** Verifies an assertion against a challenge already taken; `expectedStaff`: the session's staff member at a step-up. */
export async function verifyStaffAssertion(
  tx: Tx,
  clock: Clock,
  webauthn: WebAuthnConfig,
  o: { response: AuthenticationResponseJSON; expectedChallenge: string; expectedStaff: string | null },
): Promise<StaffAssertion> {
  const credentialId = credentialIdOf(o.response);
  const found = credentialId ? await tx.query<Row>(`${SELECT} WHERE p.credential_id = $1`, [credentialId]) : null;
  const passkey = found?.rows[0] ? toPasskey(found.rows[0]) : null;
  if (!passkey) return { ok: false, reason: 'unknown-credential', staffId: o.expectedStaff };
  if (o.expectedStaff !== null && passkey.staffId !== o.expectedStaff) return { ok: false, reason: 'other-staff', staffId: o.expectedStaff };
  const fail = (reason: 'disabled' | 'invalid' | 'signature' | 'counter'): StaffAssertion => ({ ok: false, reason, staffId: passkey.staffId });
  if (!passkey.staffActive) return fail('disabled');
  // The account's cap on failed assertions, before the signature is looked at (throttle.ts).
  const allowed = await staffAssertionAllowed(tx, clock, passkey.staffId);
  if (!allowed.ok) return { ok: false, reason: 'throttled', staffId: passkey.staffId, retryAt: allowed.retryAt };
  const checked = await checkAssertion(webauthn, o.response, o.expectedChallenge, passkey);
  if (!checked.ok) return fail(checked.reason);
  const { newCounter } = checked;
  // Guarded: of two assertions racing with the same counter value, one raises it.
  const { rows } = await tx.query(
    `UPDATE staff_passkeys SET counter = $2, last_used_at = $3 WHERE id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0)) RETURNING id`,
    [passkey.id, newCounter, clock.now()],
  );
  if (rows.length === 0) return fail('counter');
  return { ok: true, passkey };
}
