import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Config } from '../../config.ts';
import { hmac } from '../../crypto/mac.ts';
import type { Tx } from '../../db/contexts.ts';

/**
 * Passkeys (WebAuthn) through @simplewebauthn/server (DESIGN principle 10): we choose the
 * policy (discoverable credentials, user verification required, origins and RP ID from the
 * configuration, what a counter going backwards means), the library does the protocol.
 * The challenge lives in the flow row (flow.ts) and is taken once, whatever the outcome.
 */
export type WebAuthnConfig = Config['webauthn'];

/** Two minutes is what the browsers' own UI allows for a ceremony; the flow's TTL still bounds it. */
const TIMEOUT_MS = 120_000;

export interface StoredPasskey {
  authenticatorId: string;
  accountId: string;
  credentialId: Buffer;
  publicKey: Buffer;
  counter: number;
  transports: string[] | null;
  /** Whether the account may log in at all (an account locked or closed may not, passkey or not). */
  accountActive: boolean;
}

interface PasskeyRow extends Record<string, unknown> {
  authenticator_id: string;
  account_id: string;
  credential_id: Uint8Array;
  public_key: Uint8Array;
  counter: string;
  transports: string[] | null;
  status: string;
}

// The counter is a uint32 in a bigint column: read as text, the one type both drivers give back alike.
const SELECT_PASSKEY = `SELECT p.authenticator_id, p.account_id, p.credential_id, p.public_key, p.counter::text AS counter, p.transports, a.status
  FROM passkey_credentials p JOIN authenticators au ON au.id = p.authenticator_id JOIN accounts a ON a.id = p.account_id
 WHERE au.removed_at IS NULL`;

const toPasskey = (r: PasskeyRow): StoredPasskey => ({
  authenticatorId: r.authenticator_id,
  accountId: r.account_id,
  credentialId: Buffer.from(r.credential_id),
  publicKey: Buffer.from(r.public_key),
  counter: Number(r.counter),
  transports: r.transports,
  accountActive: r.status === 'active',
});

/**
 * The WebAuthn user handle: opaque, stable per account, never the NIR nor the email (it is
 * stored on the authenticator and given back to any site that asks it for this credential).
 */
export const userHandle = (macKey: Buffer, accountId: string): Uint8Array<ArrayBuffer> => new Uint8Array(hmac(macKey, `passkey-user\u0000${accountId}`));

/** A credential id as sent by the browser (base64url, at most 1023 bytes: WebAuthn's limit). */
export function credentialIdOf(response: { id?: unknown }): Buffer | null {
  if (typeof response.id !== 'string' || !/^[A-Za-z0-9_-]{1,1400}$/.test(response.id)) return null;
  const id = Buffer.from(response.id, 'base64url');
  return id.length > 0 && id.length <= 1023 ? id : null;
}

/** The account's live passkeys (excludeCredentials at enrolment, allowCredentials at a step-up). */
export async function accountPasskeys(tx: Tx, accountId: string): Promise<StoredPasskey[]> {
  const { rows } = await tx.query<PasskeyRow>(`${SELECT_PASSKEY} AND p.account_id = $1 ORDER BY au.created_at`, [accountId]);
  return rows.map(toPasskey);
}

/** The live passkey with this credential id, whoever's it is (system context: /login knows nobody yet). */
export async function findPasskey(tx: Tx, credentialId: Buffer): Promise<StoredPasskey | null> {
  const { rows } = await tx.query<PasskeyRow>(`${SELECT_PASSKEY} AND p.credential_id = $1`, [credentialId]);
  return rows[0] ? toPasskey(rows[0]) : null;
}

const descriptor = (p: StoredPasskey): { id: string; transports?: string[] } => ({
  id: p.credentialId.toString('base64url'),
  ...(p.transports ? { transports: p.transports } : {}),
});

/**
 * Options for navigator.credentials.create(): a discoverable credential (the login asks for
 * no identifier), user verification required (the passkey alone gives eidas2: possession +
 * the PIN or biometric that unlocks it), no attestation (we trust no vendor list, and ask
 * for nothing that identifies the device model).
 */
export function registrationOptions(
  webauthn: WebAuthnConfig,
  o: { macKey: Buffer; accountId: string; label: string; existing: readonly StoredPasskey[] },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: webauthn.rpName,
    rpID: webauthn.rpId,
    userID: userHandle(o.macKey, o.accountId),
    // Shown by the authenticator's account chooser, possibly to anyone holding the device: no PII.
    userName: o.label,
    userDisplayName: o.label,
    timeout: TIMEOUT_MS,
    attestationType: 'none',
    excludeCredentials: o.existing.map(descriptor),
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
  });
}

export type RegistrationResult =
  | { ok: true; credentialId: Buffer; publicKey: Buffer; counter: number; transports: string[] | null; deviceType: 'singleDevice' | 'multiDevice'; backedUp: boolean }
  | { ok: false; reason: 'invalid' | 'not-verified' };

/** Checks an attestation against the challenge we issued, our origins and RP ID, with user verification. */
export async function verifyRegistration(webauthn: WebAuthnConfig, response: RegistrationResponseJSON, expectedChallenge: string): Promise<RegistrationResult> {
  let verified;
  try {
    verified = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: webauthn.origins,
      expectedRPID: webauthn.rpId,
      requireUserPresence: true,
      requireUserVerification: true,
    });
  } catch {
    // The library says why in its message, which may quote what the client sent: reason codes only.
    return { ok: false, reason: 'invalid' };
  }
  if (!verified.verified || !verified.registrationInfo.userVerified) return { ok: false, reason: 'not-verified' };
  const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo;
  return {
    ok: true,
    credentialId: Buffer.from(credential.id, 'base64url'),
    publicKey: Buffer.from(credential.publicKey),
    counter: credential.counter,
    transports: credential.transports && credential.transports.length > 0 ? [...credential.transports] : null,
    deviceType: credentialDeviceType,
    backedUp: credentialBackedUp,
  };
}

/** Stores the verified credential under the authenticator row just added (same transaction). */
export function storePasskey(tx: Tx, o: { authenticatorId: string; accountId: string; credential: Extract<RegistrationResult, { ok: true }> }): void {
  const c = o.credential;
  tx.send(
    `INSERT INTO passkey_credentials (authenticator_id, account_id, credential_id, public_key, counter, transports, device_type, backed_up)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [o.authenticatorId, o.accountId, c.credentialId, c.publicKey, c.counter, c.transports, c.deviceType, c.backedUp],
  );
}

/**
 * Options for navigator.credentials.get(). Without `allowed` (the login), the browser offers
 * the discoverable credentials it holds for our RP ID; with it (a step-up), only that
 * account's.
 */
export function authenticationOptions(webauthn: WebAuthnConfig, allowed?: readonly StoredPasskey[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: webauthn.rpId,
    timeout: TIMEOUT_MS,
    userVerification: 'required',
    ...(allowed ? { allowCredentials: allowed.map(descriptor) } : {}),
  });
}

export type AssertionFailure = 'unknown-credential' | 'other-account' | 'not-active' | 'invalid' | 'signature' | 'counter';
export type AssertionResult = { ok: true; passkey: StoredPasskey } | { ok: false; reason: AssertionFailure; accountId: string | null };

/**
 * The signature, user verification and counter of an assertion against a stored credential,
 * for every table of passkeys (citizens', staff's); the caller then raises the counter with
 * its own guarded UPDATE.
 */
export async function checkAssertion(
  webauthn: WebAuthnConfig,
  response: AuthenticationResponseJSON,
  expectedChallenge: string,
  stored: { credentialId: Buffer; publicKey: Buffer; counter: number; transports: string[] | null },
): Promise<{ ok: true; newCounter: number; credentialBackedUp: boolean } | { ok: false; reason: 'invalid' | 'signature' | 'counter' }> {
  let verified;
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: webauthn.origins,
      expectedRPID: webauthn.rpId,
      // Counter 0 on purpose: the library compares counters *before* checking the signature,
      // so a forged assertion could raise a false clone alarm. We compare below, once the
      // signature is known to be the authenticator's.
      credential: { id: stored.credentialId.toString('base64url'), publicKey: new Uint8Array(stored.publicKey), counter: 0, ...(stored.transports ? { transports: stored.transports } : {}) },
      requireUserVerification: true,
    });
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (!verified.verified || !verified.authenticationInfo.userVerified) return { ok: false, reason: 'signature' };
  const { newCounter, credentialBackedUp } = verified.authenticationInfo;
  // WebAuthn §6.1.1: a non-zero counter must grow. One that does not is a cloned
  // authenticator (or a replayed assertion): refused, and the caller audits it as `counter`.
  if ((newCounter > 0 || stored.counter > 0) && newCounter <= stored.counter) return { ok: false, reason: 'counter' };
  return { ok: true, newCounter, credentialBackedUp };
}

/**
 * Verifies an assertion with the challenge already taken from the flow. `expectedAccount`:
 * the flow's or session's account when there is one; a passkey of another account is
 * refused whatever its signature says. On success the counter has been raised.
 */
export async function verifyAssertion(
  tx: Tx,
  webauthn: WebAuthnConfig,
  o: { response: AuthenticationResponseJSON; expectedChallenge: string; expectedAccount: string | null },
): Promise<AssertionResult> {
  const credentialId = credentialIdOf(o.response);
  const passkey = credentialId ? await findPasskey(tx, credentialId) : null;
  if (!passkey) return { ok: false, reason: 'unknown-credential', accountId: o.expectedAccount };
  if (o.expectedAccount !== null && passkey.accountId !== o.expectedAccount) return { ok: false, reason: 'other-account', accountId: o.expectedAccount };
  const fail = (reason: AssertionFailure): AssertionResult => ({ ok: false, reason, accountId: passkey.accountId });
  if (!passkey.accountActive) return fail('not-active');

  const checked = await checkAssertion(webauthn, o.response, o.expectedChallenge, passkey);
  if (!checked.ok) return fail(checked.reason);
  const { newCounter, credentialBackedUp } = checked;
  // Guarded: of two assertions racing with the same counter value, only one raises it.
  const { rows } = await tx.query(
    `UPDATE passkey_credentials SET counter = $2, backed_up = $3
      WHERE authenticator_id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0)) RETURNING 1 AS raised`,
    [passkey.authenticatorId, newCounter, credentialBackedUp],
  );
  if (rows.length === 0) return fail('counter');
  return { ok: true, passkey };
}
