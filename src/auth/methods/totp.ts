import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import QRCode from 'qrcode';
import { accountCipher } from '../../accounts/account-keys.ts';
import type { Clock } from '../../clock.ts';
import type { FieldCipher } from '../../crypto/envelope.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import type { Tx } from '../../db/contexts.ts';
import type { Flow } from '../flows/flow.ts';
import type { AuthPolicy } from '../policy.ts';
import { giveBackAttempt, raiseAttempt, refusal } from './flow-attempts.ts';
import { encodeBase32, RFC4648 } from '../../crypto/base32.ts';

/**
 * Authenticator apps: TOTP (RFC 6238) with what every app understands, HMAC-SHA1, 6 digits,
 * 30-second steps; the previous and next steps are accepted for clocks that drift. A code is
 * accepted once: each app remembers the last step accepted (last_step) and a code of that step
 * or an earlier one is refused, the new step being written with a guarded UPDATE so that two
 * submissions of one code (two tabs, two flows, an attacker racing) cannot both win.
 */
export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one. */
export const TOTP_WINDOW = 1;
/** 160 bits, the HMAC-SHA1 block output size RFC 4226 recommends. */
const SECRET_BYTES = 20;

const BASE32 = RFC4648;

/** RFC 4648 base32 without padding (what otpauth:// URIs carry). */
export const base32Encode = (bytes: Buffer): string => encodeBase32(bytes, BASE32);

/** Decodes base32, ignoring case, spaces and padding; null if another character is there. */
export function base32Decode(text: string): Buffer | null {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) return null;
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** A new shared secret, base32 as the citizen may type it into the app. */
export const newTotpSecret = (): string => base32Encode(randomBytes(SECRET_BYTES));

/** The time step of an instant (RFC 6238 T, with T0 = 0). */
export const totpStep = (at: Date, period = TOTP_PERIOD): number => Math.floor(at.getTime() / 1000 / period);

/** HOTP (RFC 4226 §5.3) for a counter: dynamic truncation of HMAC-SHA1, `digits` decimal digits. */
export function hotp(key: Buffer, counter: number, digits = TOTP_DIGITS, algorithm: 'sha1' | 'sha256' | 'sha512' = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

export const TOTP_PATTERN = /^\d{6}$/;

/** Digits only; spaces tolerated (apps show "123 456"). */
export const normaliseTotp = (input: string): string => input.replace(/[\s\u00a0-]/g, '');

/**
 * The step among those accepted around `now` whose code is `code`, the latest first, only
 * steps after `after` (the app's last accepted step). Every step is compared, in constant
 * time, whatever matched: the time taken does not tell which step did. Null if none.
 */
export function matchingStep(key: Buffer, code: string, now: Date, after = -1): { step: number } | { step: null; replayed: boolean } {
  const current = totpStep(now);
  const given = Buffer.from(code);
  let found: number | null = null;
  let replayed = false;
  for (let step = current + TOTP_WINDOW; step >= current - TOTP_WINDOW; step--) {
    const expected = Buffer.from(hotp(key, step));
    const same = expected.length === given.length && timingSafeEqual(expected, given);
    if (!same) continue;
    if (step > after) found ??= step;
    else replayed = true;
  }
  return found !== null ? { step: found } : { step: null, replayed };
}

/**
 * The otpauth:// URI the QR code carries (Google Authenticator's key URI format). The label
 * is the service and a generic account name, never the NIR nor the address: it is shown on a
 * phone's screen and kept in its backups.
 */
export function otpauthUri(o: { issuer: string; account: string; secret: string }): string {
  const label = `${encodeURIComponent(o.issuer)}:${encodeURIComponent(o.account)}`;
  const params = new URLSearchParams({ secret: o.secret, issuer: o.issuer, algorithm: 'SHA1', digits: String(TOTP_DIGITS), period: String(TOTP_PERIOD) });
  return `otpauth://totp/${label}?${params.toString().replace(/\+/g, '%20')}`;
}

/** The QR code as SVG markup, made here: the secret never goes to a third-party service. */
export async function qrCodeSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

const secretField = (authenticatorId: string): string => `totp-secret:${authenticatorId}`;

/** Stores an app's secret under the account's key; `lastStep` is the step of the code that confirmed it (not accepted again). */
export function storeTotpSecret(tx: Tx, cipher: FieldCipher, o: { authenticatorId: string; enrolmentId: string; secret: string; lastStep: number }): void {
  tx.send(`INSERT INTO totp_secrets (authenticator_id, account_id, secret, last_step, enrolment_id) VALUES ($1, $2, $3, $4, $5)`, [
    o.authenticatorId,
    cipher.accountId,
    cipher.encrypt(secretField(o.authenticatorId), o.secret),
    o.lastStep,
    o.enrolmentId,
  ]);
}

export interface TotpDeps {
  ring: KeyRing;
  clock: Clock;
  policy: AuthPolicy;
}

export type TotpRefusal = 'malformed' | 'wrong' | 'replayed' | 'exhausted' | 'account-limit';

/**
 * Checks a code from one of the account's apps for a locked flow (see loadFlow): the attempt
 * is counted first, then every live app of the account is compared, and the step found is
 * taken with a guarded UPDATE. On `exhausted` the flow is over.
 */
export async function verifyTotp(
  tx: Tx,
  deps: TotpDeps,
  flow: Flow,
  input: string,
  requestId?: string,
): Promise<{ ok: true; authenticatorId: string } | { ok: false; reason: TotpRefusal; remaining: number }> {
  const { ring, clock, policy } = deps;
  const accountId = flow.accountId;
  if (!accountId) throw new Error('an authenticator app code for a flow without account');
  const code = normaliseTotp(input);
  if (!TOTP_PATTERN.test(code)) return { ok: false, reason: 'malformed', remaining: policy.codeMaxAttempts - flow.codeFailures };
  const refuse = refusal<TotpRefusal>(tx, deps, flow, 'totp', requestId);

  const raised = await raiseAttempt(tx, deps, flow);
  if (!raised.ok) return refuse(raised.reason, raised.reason === 'exhausted' ? 0 : policy.codeMaxAttempts - flow.codeFailures);

  const [{ rows }, cipher] = await Promise.all([
    tx.query<{ authenticator_id: string; secret: Uint8Array; last_step: string }>(
      `SELECT t.authenticator_id, t.secret, t.last_step::text AS last_step FROM totp_secrets t
         JOIN authenticators a ON a.id = t.authenticator_id AND a.removed_at IS NULL
        WHERE t.account_id = $1 ORDER BY a.created_at, a.id`,
      [accountId],
    ),
    accountCipher(tx, ring, accountId),
  ]);
  const now = clock.now();
  let replayed = false;
  for (const row of rows) {
    if (!cipher) break;
    const key = base32Decode(cipher.decrypt(secretField(row.authenticator_id), Buffer.from(row.secret)));
    if (!key) continue;
    const match = matchingStep(key, code, now, Number(row.last_step));
    if (match.step === null) {
      replayed ||= match.replayed;
      continue;
    }
    // The replay guard: only one submission moves last_step past this step.
    const taken = await tx.query(`UPDATE totp_secrets SET last_step = $2 WHERE authenticator_id = $1 AND last_step < $2 RETURNING authenticator_id`, [
      row.authenticator_id,
      match.step,
    ]);
    if (taken.rows.length === 1) {
      giveBackAttempt(tx, flow.id);
      return { ok: true, authenticatorId: row.authenticator_id };
    }
    replayed = true;
  }
  const failures = raised.failures;
  const reason: TotpRefusal = failures >= policy.codeMaxAttempts ? 'exhausted' : replayed ? 'replayed' : 'wrong';
  return refuse(reason, Math.max(0, policy.codeMaxAttempts - failures));
}

/**
 * For the enrolment: whether `code` is the app's current code (window included). The step
 * found is stored as the app's last step, so the code that confirmed it cannot log in.
 */
export function confirmEnrolmentCode(secret: string, input: string, now: Date): { ok: true; step: number } | { ok: false; reason: 'malformed' | 'wrong' } {
  const code = normaliseTotp(input);
  if (!TOTP_PATTERN.test(code)) return { ok: false, reason: 'malformed' };
  const key = base32Decode(secret);
  if (!key) return { ok: false, reason: 'wrong' };
  const match = matchingStep(key, code, now);
  return match.step === null ? { ok: false, reason: 'wrong' } : { ok: true, step: match.step };
}
