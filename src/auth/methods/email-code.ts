import { timingSafeEqual } from 'node:crypto';
import { hmac } from '../../crypto/mac.ts';
import type { Clock } from '../../clock.ts';
import type { Tx } from '../../db/contexts.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import { newId, randomDigits } from '../../crypto/random.ts';
import { audit } from '../../audit/log.ts';
import { readEmail } from '../../accounts/accounts.ts';
import { queueMail } from '../../mail/outbox.ts';
import type { MailLocale } from '../../mail/templates/types.ts';
import type { Flow } from '../flows/flow.ts';
import { endFlow } from '../flows/flow.ts';
import { lockAccountCodes } from './flow-attempts.ts';
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

export type CodePurpose = 'login' | 'activation' | 'recovery' | 'confirm';

export const CODE_PATTERN = /^\d{6}$/;

/** HMAC(flow id, code): a code typed into another flow never matches, and a dump reveals nothing. */
function codeMac(ring: KeyRing, flowId: string, code: string): Buffer {
  return hmac(ring.macKey, `email-code\u0000${flowId}\u0000${code}`);
}

export type SendRefusal = 'cooldown' | 'flow-limit' | 'account-limit' | 'failures-limit' | 'no-email';

/**
 * The account's budgets. Only where the citizen proved who they are (a login's password, a
 * confirmation asked from a live session) may a refusal be shown. Activation and recovery
 * answer anyone who types a NIR, so there a refusal is silent (the flow counts a send and
 * nothing goes out): the page must read the same for every NIR, and nobody may use these pages
 * to spend a victim's login or confirmation budget or fill their mailbox. Both budgets are
 * counted apart for the same reason.
 */
async function checkAccountBudget(
  tx: Tx,
  { ring, clock, policy }: CodeDeps,
  flow: Flow,
  requestId: string | undefined,
): Promise<{ ok: true; to: string | null } | { ok: false; reason: 'account-limit' | 'failures-limit' | 'no-email' }> {
  const accountId = flow.accountId as string;
  const login = flow.kind === 'login';
  const proven = login || flow.kind === 'confirm';
  const now = clock.now().getTime();
  const refuse = async (reason: 'account-limit' | 'failures-limit' | 'no-email'): Promise<{ ok: true; to: null } | { ok: false; reason: 'account-limit' | 'failures-limit' | 'no-email' }> => {
    await audit(tx, clock, { type: 'code.refused', accountId, requestId, payload: { flowId: flow.id, reason } });
    return proven ? { ok: false, reason } : { ok: true, to: null };
  };
  // The lock serialises the counts between concurrent flows of one account; the count (and
  // the address, used only within budget) is pipelined behind it and runs once it is held.
  const [, { rows }, to] = await Promise.all([
    lockAccountCodes(tx, accountId),
    tx.query<{ sent: number; failures: number }>(
      `SELECT (SELECT count(*)::int FROM one_time_codes c JOIN auth_flows f ON f.id = c.flow_id
                WHERE c.account_id = $1 AND c.sent_at > $2 AND (f.kind IN ('login', 'confirm')) = $4) AS sent,
              (SELECT coalesce(sum(code_failures), 0)::int FROM auth_flows
                WHERE account_id = $1 AND kind = 'login' AND created_at > $3) AS failures`,
      [accountId, new Date(now - 3600 * 1000), new Date(now - 24 * 3600 * 1000), proven],
    ),
    readEmail(tx, ring, accountId),
  ]);
  const { sent = 0, failures = 0 } = rows[0] ?? {};
  if (sent >= (proven ? policy.codesPerAccountPerHour : policy.unauthenticatedCodesPerAccountPerHour)) return refuse('account-limit');
  // Whoever knows the password may open flow after flow, 5 guesses each: wrong codes are
  // also capped per account over a day.
  if (login && failures >= policy.codeFailuresPerAccountPerDay) return refuse('failures-limit');
  if (!to) return refuse('no-email');
  return { ok: true, to };
}

/** When the next code may be asked for (cooldown), or null if the flow may send no more. */
export function nextSendAt(flow: Flow, policy: AuthPolicy): Date | null {
  if (flow.codesSent >= policy.codesPerFlow) return null;
  if (!flow.lastCodeSentAt) return new Date(0);
  return new Date(flow.lastCodeSentAt.getTime() + policy.codeResendCooldown * 1000);
}

/**
 * Sends a new code for a locked flow (see loadFlow), revoking the previous one. A flow
 * without account (the NIR matched nothing), or one whose account is over its budget in
 * activation or recovery, counts a send like any other and sends nothing.
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

  const expiresAt = codeExpiry(flow, now, policy);
  const budget = flow.accountId === null ? null : await checkAccountBudget(tx, deps, flow, mail.requestId);
  if (budget !== null && !budget.ok) return { ok: false, reason: budget.reason };
  const to = budget?.to ?? null;
  if (flow.accountId !== null && to !== null) {
    const code = randomDigits(6);
    // The previous code dies as the new one is stored: only the latest mail's code works.
    tx.send(
      `WITH revoked AS (UPDATE one_time_codes SET revoked_at = $5 WHERE flow_id = $2 AND used_at IS NULL AND revoked_at IS NULL)
       INSERT INTO one_time_codes (id, flow_id, account_id, code_mac, sent_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [newId(), flow.id, flow.accountId, codeMac(ring, flow.id, code), now, expiresAt],
    );
    // A malformed address on file throws here and rolls the new code back with the rest.
    await queueMail(tx, { ring, clock }, {
      accountId: flow.accountId,
      to,
      template: 'one-time-code',
      locale: mail.locale,
      params: { purpose: mail.purpose, code, requestedAt: now.toISOString(), expiresAt: expiresAt.toISOString(), browser: mail.browser, os: mail.os },
    });
  }
  tx.send(`UPDATE auth_flows SET codes_sent = codes_sent + 1, last_code_sent_at = $2 WHERE id = $1`, [flow.id, now]);
  await audit(tx, clock, {
    type: 'code.sent',
    accountId: flow.accountId,
    requestId: mail.requestId,
    payload: { flowId: flow.id, purpose: mail.purpose, delivered: to !== null, number: flow.codesSent + 1 },
  });
  return { ok: true, flow: { ...flow, codesSent: flow.codesSent + 1, lastCodeSentAt: now }, expiresAt };
}

/**
 * When the flow's latest code stops working, for the page: computed from the flow alone, so
 * that the page reads the same whether a code was really sent or silently held back.
 */
export function currentCodeExpiry(flow: Flow, policy: AuthPolicy): Date | null {
  return flow.lastCodeSentAt ? codeExpiry(flow, flow.lastCodeSentAt, policy) : null;
}

/** A code works `codeTtl` after it was sent, and never past its flow: the page and the mail must not promise longer. */
function codeExpiry(flow: Flow, sentAt: Date, policy: AuthPolicy): Date {
  return new Date(Math.min(sentAt.getTime() + policy.codeTtl * 1000, flow.expiresAt.getTime()));
}

/** `account-limit`: a login's wrong codes reached the account's daily cap. */
export type VerifyRefusal = 'malformed' | 'wrong' | 'expired' | 'exhausted' | 'account-limit';

/** Digits only, spaces tolerated (people copy "123 456"). */
export const normaliseCode = (input: string): string => input.replace(/[\s\u00a0-]/g, '');

/**
 * Checks a code for a locked flow. On `exhausted` the flow is over (5 wrong entries by
 * default, across every code the flow was sent: a new code does not reset the count).
 */
export function verifyCode(tx: Tx, deps: CodeDeps, flow: Flow, input: string, requestId?: string): Promise<{ ok: true } | { ok: false; reason: VerifyRefusal; remaining: number }> {
  return verifyFlowCode(tx, deps, flow, input, codeMac, requestId);
}

/** The same checks for a code whose MAC has another purpose (the email-change code): one implementation of the rules. */
export async function verifyFlowCode(
  tx: Tx,
  deps: CodeDeps,
  flow: Flow,
  input: string,
  mac: (ring: KeyRing, flowId: string, code: string) => Buffer,
  requestId?: string,
): Promise<{ ok: true } | { ok: false; reason: VerifyRefusal; remaining: number }> {
  const { ring, clock, policy } = deps;
  const code = normaliseCode(input);
  if (!CODE_PATTERN.test(code)) return { ok: false, reason: 'malformed', remaining: policy.codeMaxAttempts - flow.codeFailures };

  // Raised before comparing, guarded by the limit: of N parallel guesses on one flow, at most
  // the allowed number are ever compared (the flow row is locked; the UPDATE re-checks).
  // A login's raise is also guarded by the account's wrong codes of the day (whoever holds the
  // password may open flow after flow), under the account's code lock that sendCode and
  // raiseAttempt take, so parallel guesses over several flows cannot all pass one count.
  // The code is read in the same round trip, only compared if the raise went through.
  const cappedAccount = flow.kind === 'login' ? flow.accountId : null;
  const [, { rows: raised }, { rows }] = await Promise.all([
    cappedAccount !== null ? lockAccountCodes(tx, cappedAccount) : null,
    cappedAccount !== null
      ? tx.query<{ code_failures: number }>(
          `UPDATE auth_flows SET code_failures = code_failures + 1 WHERE id = $1 AND code_failures < $2
             AND (SELECT coalesce(sum(code_failures), 0) FROM auth_flows WHERE account_id = $3 AND kind = 'login' AND created_at > $4) < $5
           RETURNING code_failures`,
          [flow.id, policy.codeMaxAttempts, cappedAccount, new Date(clock.now().getTime() - 24 * 3600 * 1000), policy.codeFailuresPerAccountPerDay],
        )
      : tx.query<{ code_failures: number }>(
          `UPDATE auth_flows SET code_failures = code_failures + 1 WHERE id = $1 AND code_failures < $2 RETURNING code_failures`,
          [flow.id, policy.codeMaxAttempts],
        ),
    tx.query<{ id: string; code_mac: Uint8Array; expires_at: Date }>(
      `SELECT id, code_mac, expires_at FROM one_time_codes WHERE flow_id = $1 AND used_at IS NULL AND revoked_at IS NULL ORDER BY sent_at DESC LIMIT 1`,
      [flow.id],
    ),
  ]);
  const failures = raised[0]?.code_failures;
  // The flow row is locked (loadFlow): its count as loaded tells which guard refused.
  if (failures === undefined && flow.codeFailures < policy.codeMaxAttempts) {
    await audit(tx, clock, { type: 'code.refused', accountId: flow.accountId, requestId, payload: { flowId: flow.id, reason: 'failures-limit' } });
    return { ok: false, reason: 'account-limit', remaining: policy.codeMaxAttempts - flow.codeFailures };
  }
  if (failures === undefined) {
    await endFlow(tx, clock, flow.id, 'failed');
    return { ok: false, reason: 'exhausted', remaining: 0 };
  }

  const now = clock.now();
  const current = rows[0];
  const matches = current !== undefined && timingSafeEqual(Buffer.from(current.code_mac), mac(ring, flow.id, code));
  const fresh = current !== undefined && current.expires_at.getTime() > now.getTime();

  if (matches && fresh) {
    // Consumed only if still unused (a racing submission loses); the right code is not a
    // failure, so the attempt raised above is given back in the same statement.
    const consumed = await tx.query(
      `WITH used AS (UPDATE one_time_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL RETURNING flow_id)
       UPDATE auth_flows SET code_failures = code_failures - 1 WHERE id = (SELECT flow_id FROM used) RETURNING id`,
      [current.id, now],
    );
    if (consumed.rows.length === 1) {
      await audit(tx, clock, { type: 'code.verified', accountId: flow.accountId, requestId, payload: { flowId: flow.id } });
      return { ok: true };
    }
  }
  const reason: VerifyRefusal = failures >= policy.codeMaxAttempts ? 'exhausted' : matches && !fresh ? 'expired' : 'wrong';
  await audit(tx, clock, { type: 'code.failed', accountId: flow.accountId, requestId, payload: { flowId: flow.id, reason, failures } });
  if (reason === 'exhausted') await endFlow(tx, clock, flow.id, 'failed');
  return { ok: false, reason, remaining: Math.max(0, policy.codeMaxAttempts - failures) };
}
