import { randomInt, timingSafeEqual } from 'node:crypto';
import { audit } from '../../audit/log.ts';
import { hmac } from '../../crypto/mac.ts';
import { newId } from '../../crypto/random.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import type { Tx } from '../../db/contexts.ts';
import { queueMail } from '../../mail/outbox.ts';
import type { MailLocale } from '../../mail/templates/types.ts';
import type { ChangeContext } from '../authenticators.ts';
import type { Flow } from '../flows/flow.ts';
import { giveBackAttempt, raiseAttempt, refusal } from './flow-attempts.ts';
import type { TotpDeps } from './totp.ts';

/**
 * Recovery codes (NIST "look-up secrets"): ten per account, shown once, each usable once,
 * handled like every one-time secret (DESIGN principle 5): stored as an HMAC bound to the
 * account, the flow's attempt counter raised before comparing, compared in constant time,
 * consumed with `UPDATE … WHERE used_at IS NULL`. A set belongs to the authenticator app it
 * was issued with (see 008_totp.sql) and works only while that app is on the account.
 */
export const RECOVERY_CODE_COUNT = 10;
/** 10 base32 characters: 50 bits each, far beyond what 5 guesses per flow can reach. */
const CODE_LENGTH = 10;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const CODE_PATTERN = /^[A-Z2-7]{10}$/;

/** Shown as XXXXX-XXXXX; uniform characters from the CSPRNG (randomInt rejects modulo bias). */
export function newRecoveryCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/** As typed: case, spaces and dashes do not matter; digits people read for letters are read back as those letters. */
export const normaliseRecoveryCode = (input: string): string =>
  input
    .toUpperCase()
    .replace(/[\s\u00a0-]/g, '')
    .replace(/0/g, 'O')
    .replace(/1/g, 'I')
    .replace(/8/g, 'B');

/** HMAC(account id, code): a dump reveals no code, and a code of one account is nothing on another. */
const codeMac = (ring: KeyRing, accountId: string, code: string): Buffer => hmac(ring.macKey, `recovery-code\u0000${accountId}\u0000${code}`);

/**
 * A new set for the app `authenticatorId`, replacing the account's previous set in the same
 * transaction (the old codes die with the statement that writes the new ones). Returns the
 * codes in clear, to be shown once and never again.
 */
export function replaceRecoveryCodes(tx: Tx, deps: { ring: KeyRing; clock: { now(): Date } }, accountId: string, authenticatorId: string): string[] {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const now = deps.clock.now();
  tx.send(
    `WITH old AS (DELETE FROM recovery_codes WHERE account_id = $1::uuid)
     INSERT INTO recovery_codes (id, account_id, authenticator_id, code_mac, created_at)
     SELECT id, $1::uuid, $2::uuid, decode(mac, 'hex'), $3::timestamptz FROM unnest($4::uuid[], $5::text[]) AS n (id, mac)`,
    [accountId, authenticatorId, now, codes.map(() => newId()), codes.map((c) => codeMac(deps.ring, accountId, normaliseRecoveryCode(c)).toString('hex'))],
  );
  return codes;
}

/**
 * "Générer de nouveaux codes": the old set stops working, the owner is told by mail and the
 * change is audited. The set goes with the account's most recent live app; null when the
 * account has none (nothing to back up).
 */
export async function regenerateRecoveryCodes(
  tx: Tx,
  deps: ChangeContext,
  o: { accountId: string; locale: MailLocale; client: { browser: string | null; os: string | null }; requestId?: string },
): Promise<string[] | null> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM authenticators WHERE account_id = $1 AND kind = 'totp' AND removed_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1`,
    [o.accountId],
  );
  const app = rows[0];
  if (!app) return null;
  const codes = replaceRecoveryCodes(tx, deps, o.accountId, app.id);
  await recordNewCodes(tx, deps, { ...o, mail: true });
  return codes;
}

/** Audits a new set and, when it was not part of adding an app (whose own mail says so), mails the owner. */
export async function recordNewCodes(
  tx: Tx,
  deps: ChangeContext,
  o: { accountId: string; locale: MailLocale; client: { browser: string | null; os: string | null }; requestId?: string; mail: boolean },
): Promise<void> {
  await audit(tx, deps.clock, { type: 'recovery-codes.generated', accountId: o.accountId, requestId: o.requestId, payload: { count: RECOVERY_CODE_COUNT } });
  if (!o.mail) return;
  await queueMail(tx, deps, {
    accountId: o.accountId,
    template: 'authenticator-changed',
    locale: o.locale,
    params: { at: deps.clock.now().toISOString(), browser: o.client.browser, os: o.client.os, kind: 'recovery-codes', change: 'regenerated' },
  });
}

/** How many codes of the account's set are left (0 when there is no set, or its app was removed). */
export async function recoveryCodesLeft(tx: Tx, accountId: string): Promise<number> {
  const { rows } = await tx.query<{ left: number }>(
    `SELECT count(*)::int AS left FROM recovery_codes r JOIN authenticators a ON a.id = r.authenticator_id AND a.removed_at IS NULL
      WHERE r.account_id = $1 AND r.used_at IS NULL`,
    [accountId],
  );
  return rows[0]?.left ?? 0;
}

export type RecoveryRefusal = 'malformed' | 'wrong' | 'exhausted' | 'account-limit';

/**
 * Checks a recovery code for a locked flow. The attempt counter is the flow's (shared with
 * the app's codes); on `exhausted` the flow is over. Returns the app the set belongs to: its
 * cooling-off applies to the session, as if the app had been used.
 */
export async function verifyRecoveryCode(
  tx: Tx,
  deps: TotpDeps,
  flow: Flow,
  input: string,
  requestId?: string,
): Promise<{ ok: true; authenticatorId: string } | { ok: false; reason: RecoveryRefusal; remaining: number }> {
  const { ring, clock, policy } = deps;
  const accountId = flow.accountId;
  if (!accountId) throw new Error('a recovery code for a flow without account');
  const code = normaliseRecoveryCode(input);
  if (!CODE_PATTERN.test(code)) return { ok: false, reason: 'malformed', remaining: policy.codeMaxAttempts - flow.codeFailures };
  const refuse = refusal<RecoveryRefusal>(tx, deps, flow, 'recovery-code', requestId);

  const raised = await raiseAttempt(tx, deps, flow);
  if (!raised.ok) return refuse(raised.reason, raised.reason === 'exhausted' ? 0 : policy.codeMaxAttempts - flow.codeFailures);

  const { rows } = await tx.query<{ id: string; code_mac: Uint8Array; authenticator_id: string }>(
    `SELECT r.id, r.code_mac, r.authenticator_id FROM recovery_codes r JOIN authenticators a ON a.id = r.authenticator_id AND a.removed_at IS NULL
      WHERE r.account_id = $1 AND r.used_at IS NULL`,
    [accountId],
  );
  const given = codeMac(ring, accountId, code);
  // Every unused code is compared, whatever matched: the time taken tells nothing.
  let match: { id: string; authenticator_id: string } | undefined;
  for (const row of rows) {
    const stored = Buffer.from(row.code_mac);
    if (stored.length === given.length && timingSafeEqual(stored, given)) match ??= row;
  }
  if (match) {
    // Consumed only if still unused: of two submissions of one code, one wins.
    const used = await tx.query(`UPDATE recovery_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL RETURNING id`, [match.id, clock.now()]);
    if (used.rows.length === 1) {
      giveBackAttempt(tx, flow.id);
      return { ok: true, authenticatorId: match.authenticator_id };
    }
  }
  const failures = raised.failures;
  return refuse(failures >= policy.codeMaxAttempts ? 'exhausted' : 'wrong', Math.max(0, policy.codeMaxAttempts - failures));
}
