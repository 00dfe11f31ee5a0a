import { createHash, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { randomToken } from '../../crypto/random.ts';
import { audit } from '../../audit/log.ts';
import type { Tx } from '../../db/contexts.ts';
import type { MailLocale } from '../../mail/templates/types.ts';
import { addAuthenticator, type ChangeContext } from '../authenticators.ts';

/**
 * The approval device's key: ECDSA P-256, generated in the phone's browser with WebCrypto
 * (`extractable: false`, kept in IndexedDB), so the private key never leaves it. We keep the
 * public key (SPKI). A device has no session: each of its requests is signed over a nonce
 * we issued (single use, short-lived) and the exact payload, so a request can be neither
 * forged without the key nor replayed.
 */

/** How long an issued nonce may be signed: a poll or a tap follows within seconds. */
export const NONCE_TTL_SECONDS = 60;

/** What the device signs: one JSON array, built the same way here and in device.js. */
export const signedData = (action: DeviceAction, nonce: string, fields: readonly string[]): Buffer =>
  Buffer.from(JSON.stringify(['sesame-device/1', action, nonce, ...fields]), 'utf8');

export type DeviceAction = 'poll' | 'decide' | 'end-sessions';

/** The device's name for itself: SHA-256 of its SPKI, so it never needs our ids. */
export const keyIdOf = (spki: Buffer): Buffer => createHash('sha256').update(spki).digest();

/** A P-256 public key in DER SPKI, or null for anything else (another curve, RSA, garbage). */
export function parseDevicePublicKey(spki: Buffer): Buffer | null {
  if (spki.length < 60 || spki.length > 200) return null;
  try {
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return null;
    // Normalised: what we store is what node exports, not whatever encoding was sent.
    return key.export({ format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

/**
 * Registers an approval device on the account: the authenticators row (which tells the owner
 * by mail and sets the cooling-off) and the public key, in the caller's (citizen) transaction.
 */
export async function registerDevice(
  tx: Tx,
  deps: ChangeContext,
  o: { accountId: string; name: string; publicKey: Buffer; fromStrongSession: boolean; locale: MailLocale; client: { browser: string | null; os: string | null }; requestId?: string },
): Promise<{ ok: true; id: string } | { ok: false; reason: 'bad-key' }> {
  const spki = parseDevicePublicKey(o.publicKey);
  if (!spki) return { ok: false, reason: 'bad-key' };
  const added = await addAuthenticator(tx, deps, { accountId: o.accountId, kind: 'device', name: o.name, fromStrongSession: o.fromStrongSession, locale: o.locale, client: o.client, requestId: o.requestId });
  tx.send(`INSERT INTO approval_devices (authenticator_id, account_id, key_id, public_key, created_at) VALUES ($1, $2, $3, $4, $5)`, [
    added.id,
    o.accountId,
    keyIdOf(spki),
    spki,
    deps.clock.now(),
  ]);
  return { ok: true, id: added.id };
}

/** A live device (its authenticator not removed). */
export interface Device {
  authenticatorId: string;
  accountId: string;
}

/**
 * A fresh nonce for the device, replacing any earlier one; null when no live device has this
 * key (never registered, or removed: the page then offers to register).
 */
export async function issueNonce(tx: Tx, clock: Clock, keyId: Buffer): Promise<string | null> {
  const nonce = randomToken(32);
  const { rows } = await tx.query<{ authenticator_id: string }>(
    `UPDATE approval_devices d SET nonce = $2, nonce_expires_at = $3 FROM authenticators a
      WHERE d.key_id = $1 AND a.id = d.authenticator_id AND a.removed_at IS NULL RETURNING d.authenticator_id`,
    [keyId, nonce, new Date(clock.now().getTime() + NONCE_TTL_SECONDS * 1000)],
  );
  return rows.length === 1 ? nonce : null;
}

export type DeviceAuthFailure = 'unknown-device' | 'stale-nonce' | 'bad-signature';

/**
 * Checks a signed device request. The nonce is taken (cleared) whatever the outcome, in the
 * same statement that reads it, so two requests signed over one nonce cannot both pass, and a
 * wrong signature cannot be retried against it.
 */
export async function authenticateDevice(
  tx: Tx,
  clock: Clock,
  req: { keyId: Buffer; nonce: string; signature: Buffer; action: DeviceAction; fields: readonly string[]; requestId?: string },
): Promise<{ ok: true; device: Device } | { ok: false; reason: DeviceAuthFailure }> {
  const { rows } = await tx.query<{ authenticator_id: string; account_id: string; public_key: Uint8Array; nonce: string | null; nonce_expires_at: Date | null }>(
    `UPDATE approval_devices d SET nonce = NULL, nonce_expires_at = NULL
       FROM (SELECT authenticator_id, nonce, nonce_expires_at FROM approval_devices WHERE key_id = $1 FOR UPDATE) old, authenticators a
      WHERE d.authenticator_id = old.authenticator_id AND a.id = d.authenticator_id AND a.removed_at IS NULL
      RETURNING d.authenticator_id, d.account_id, d.public_key, old.nonce, old.nonce_expires_at`,
    [req.keyId],
  );
  const row = rows[0];
  if (!row) return { ok: false, reason: 'unknown-device' };
  const fresh = row.nonce !== null && row.nonce_expires_at !== null && row.nonce_expires_at.getTime() > clock.now().getTime();
  if (!fresh || !sameText(row.nonce ?? '', req.nonce)) return { ok: false, reason: 'stale-nonce' };
  let valid = false;
  try {
    // WebCrypto signs ECDSA as r||s (IEEE P1363), not DER.
    valid = verify('sha256', signedData(req.action, req.nonce, req.fields), { key: Buffer.from(row.public_key), format: 'der', type: 'spki', dsaEncoding: 'ieee-p1363' }, req.signature);
  } catch {
    valid = false;
  }
  if (!valid) {
    await audit(tx, clock, { type: 'method.failed', accountId: row.account_id, requestId: req.requestId, payload: { flowId: null, method: 'device-approval', reason: 'bad-signature' } });
    return { ok: false, reason: 'bad-signature' };
  }
  return { ok: true, device: { authenticatorId: row.authenticator_id, accountId: row.account_id } };
}

const sameText = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
