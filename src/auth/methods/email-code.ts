import { timingSafeEqual } from 'node:crypto';
import { hmac } from '../../crypto/mac.ts';
import type { Clock } from '../../clock.ts';
import type { Tx } from '../../db/contexts.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import { newId, randomDigits } from '../../crypto/random.ts';
import { audit } from '../../audit/log.ts';
import { queueMail, MailRecipientError } from '../../mail/outbox.ts';
import type { MailLocale } from '../../mail/templates/types.ts';
import type { Flow } from '../flows/flow.ts';
import { endFlow } from '../flows/flow.ts';
import type { AuthPolicy } from '../policy.ts';

/**
 * The 6-digit code sent by email, handled the way Kratos handles codes (DESIGN principle 5):
 * stored as an HMAC bound to its flow, the flow's attempt counter raised before comparing,
 * compared in constant time, consumed with a guarded UPDATE.
 */
export interface CodeDeps {
  ring: KeyRing;
  clock: Clock;
  policy: AuthPolicy;
}

export type CodePurpose = 'login' | 'activation' | 'recovery' | 'password-change';

export const CODE_PATTERN = /^\d{6}$/;

/** HMAC(flow id, code): a code typed into another flow never matches, and a dump reveals nothing. */
function codeMac(ring: KeyRing, flowId: string, code: string): Buffer {
  return hmac(ring.macKey, `email-code\u0000${flowId}\u0000${code}`);
}

export type SendRefusal = 'cooldown' | 'flow-limit' | 'account-limit' | 'no-email';

/** When the next code may be asked for (cooldown), or null if the flow may send no more. */
export function nextSendAt(flow: Flow, policy: AuthPolicy): Date | null {
  if (flow.codesSent >= policy.codesPerFlow) return null;
  if (!flow.lastCodeSentAt) return new Date(0);
  return new Date(flow.lastCodeSentAt.getTime() + policy.codeResendCooldown * 1000);
}

/**
 * Sends a new code for a locked flow (see loadFlow), revoking the previous one. A flow
 * without account (the NIR matched nothing) counts a send like any other and sends nothing.
 */
export async function sendCode(
  tx: Tx,
  deps: CodeDeps,
  flow: Flow,
  mail: { purpose: CodePurpose; locale: MailLocale; browser: string | null; os: string | null; requestId?: string },
): Promise<{ ok: true; flow: Flow; expiresAt: Date } | { ok: false; reason: SendRefusal; retryAt?: Date }> {
  const { ring, clock, policy } = deps;
  const now = clock.now();
  const next = nextSendAt(flow, policy);
  if (next === null) return { ok: false, reason: 'flow-limit' };
  if (next.getTime() > now.getTime()) return { ok: false, reason: 'cooldown', retryAt: next };

  const expiresAt = new Date(now.getTime() + policy.codeTtl * 1000);
  if (flow.accountId !== null) {
    // Serialises the hourly count between concurrent flows of one account.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('codes:' || $1, 0))`, [flow.accountId]);
    const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM one_time_codes WHERE account_id = $1 AND sent_at > $2`, [
      flow.accountId,
      new Date(now.getTime() - 3600 * 1000),
    ]);
    if ((rows[0]?.n ?? 0) >= policy.codesPerAccountPerHour) {
      await audit(tx, clock, { type: 'code.refused', accountId: flow.accountId, requestId: mail.requestId, payload: { flowId: flow.id, reason: 'account-limit' } });
      return { ok: false, reason: 'account-limit' };
    }
    // Checked before a code row exists: a code nobody was sent must not be "current".
    const { rows: reachable } = await tx.query<{ ok: boolean }>(`SELECT email IS NOT NULL AS ok FROM accounts WHERE id = $1`, [flow.accountId]);
    if (!reachable[0]?.ok) return { ok: false, reason: 'no-email' };
    const code = randomDigits(6);
    await tx.query(`UPDATE one_time_codes SET revoked_at = $2 WHERE flow_id = $1 AND used_at IS NULL AND revoked_at IS NULL`, [flow.id, now]);
    await tx.query(`INSERT INTO one_time_codes (id, flow_id, account_id, code_mac, sent_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
      newId(),
      flow.id,
      flow.accountId,
      codeMac(ring, flow.id, code),
      now,
      expiresAt,
    ]);
    try {
      await queueMail(tx, { ring, clock }, {
        accountId: flow.accountId,
        template: 'one-time-code',
        locale: mail.locale,
        params: { purpose: mail.purpose, code, requestedAt: now.toISOString(), expiresAt: expiresAt.toISOString(), browser: mail.browser, os: mail.os },
      });
    } catch (err) {
      if (err instanceof MailRecipientError) return { ok: false, reason: 'no-email' };
      throw err;
    }
  }
  await tx.query(`UPDATE auth_flows SET codes_sent = codes_sent + 1, last_code_sent_at = $2 WHERE id = $1`, [flow.id, now]);
  await audit(tx, clock, {
    type: 'code.sent',
    accountId: flow.accountId,
    requestId: mail.requestId,
    payload: { flowId: flow.id, purpose: mail.purpose, delivered: flow.accountId !== null, number: flow.codesSent + 1 },
  });
  return { ok: true, flow: { ...flow, codesSent: flow.codesSent + 1, lastCodeSentAt: now }, expiresAt };
}

/** The expiry of the flow's current code, for the page. */
export async function currentCodeExpiry(tx: Tx, flow: Flow, policy: AuthPolicy): Promise<Date | null> {
  if (!flow.lastCodeSentAt) return null;
  if (flow.accountId === null) return new Date(flow.lastCodeSentAt.getTime() + policy.codeTtl * 1000);
  const { rows } = await tx.query<{ expires_at: Date }>(
    `SELECT expires_at FROM one_time_codes WHERE flow_id = $1 AND used_at IS NULL AND revoked_at IS NULL ORDER BY sent_at DESC LIMIT 1`,
    [flow.id],
  );
  return rows[0]?.expires_at ?? null;
}

export type VerifyRefusal = 'malformed' | 'wrong' | 'expired' | 'exhausted';

/** Digits only, spaces tolerated (people copy "123 456"). */
export const normaliseCode = (input: string): string => input.replace(/[\s\u00a0-]/g, '');

/**
 * Checks a code for a locked flow. On `exhausted` the flow is over (5 wrong entries by
 * default, across every code the flow was sent: a new code does not reset the count).
 */
export async function verifyCode(
  tx: Tx,
  deps: CodeDeps,
  flow: Flow,
  input: string,
  requestId?: string,
): Promise<{ ok: true } | { ok: false; reason: VerifyRefusal; remaining: number }> {
  const { ring, clock, policy } = deps;
  const code = normaliseCode(input);
  if (!CODE_PATTERN.test(code)) return { ok: false, reason: 'malformed', remaining: policy.codeMaxAttempts - flow.codeFailures };

  // Raised before comparing: a guess that crashes or races still counts.
  const { rows: raised } = await tx.query<{ code_failures: number }>(
    `UPDATE auth_flows SET code_failures = code_failures + 1 WHERE id = $1 AND code_failures < $2 RETURNING code_failures`,
    [flow.id, policy.codeMaxAttempts],
  );
  const failures = raised[0]?.code_failures;
  if (failures === undefined) {
    await endFlow(tx, clock, flow.id, 'failed');
    return { ok: false, reason: 'exhausted', remaining: 0 };
  }

  const now = clock.now();
  const { rows } = await tx.query<{ id: string; code_mac: Uint8Array; expires_at: Date }>(
    `SELECT id, code_mac, expires_at FROM one_time_codes WHERE flow_id = $1 AND used_at IS NULL AND revoked_at IS NULL ORDER BY sent_at DESC LIMIT 1`,
    [flow.id],
  );
  const current = rows[0];
  const matches = current !== undefined && timingSafeEqual(Buffer.from(current.code_mac), codeMac(ring, flow.id, code));
  const fresh = current !== undefined && current.expires_at.getTime() > now.getTime();

  if (matches && fresh) {
    const consumed = await tx.query(`UPDATE one_time_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL RETURNING id`, [current.id, now]);
    if (consumed.rows.length === 1) {
      // The right code is not a failure: give back the attempt raised above.
      await tx.query(`UPDATE auth_flows SET code_failures = code_failures - 1 WHERE id = $1`, [flow.id]);
      await audit(tx, clock, { type: 'code.verified', accountId: flow.accountId, requestId, payload: { flowId: flow.id } });
      return { ok: true };
    }
  }
  const reason: VerifyRefusal = failures >= policy.codeMaxAttempts ? 'exhausted' : matches && !fresh ? 'expired' : 'wrong';
  await audit(tx, clock, { type: 'code.failed', accountId: flow.accountId, requestId, payload: { flowId: flow.id, reason, failures } });
  if (reason === 'exhausted') await endFlow(tx, clock, flow.id, 'failed');
  return { ok: false, reason, remaining: Math.max(0, policy.codeMaxAttempts - failures) };
}
