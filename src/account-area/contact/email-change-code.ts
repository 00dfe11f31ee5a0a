import { audit } from '../../audit/log.ts';
import type { Flow } from '../../auth/flows/flow.ts';
import { nextSendAt, verifyFlowCode, type CodeDeps, type VerifyRefusal } from '../../auth/methods/email-code.ts';
import { lockAccountCodes } from '../../auth/methods/flow-attempts.ts';
import { hmac } from '../../crypto/mac.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import { newId, randomDigits } from '../../crypto/random.ts';
import type { Tx } from '../../db/contexts.ts';
import { queueMail } from '../../mail/outbox.ts';
import type { MailLocale } from '../../mail/templates/types.ts';

/**
 * The code that confirms a new email address, handled as every email code is (DESIGN
 * principle 5, src/auth/methods/email-code.ts): one of its flow's one_time_codes, stored as
 * an HMAC bound to the flow, the flow's attempt counter raised before comparing, compared in
 * constant time, consumed with a guarded UPDATE, sent again only within the flow's limits.
 * Two differences: it goes to the address being confirmed, not the one on file; and its MAC
 * has a purpose of its own, so that it never passes as a "fresh email code" on /confirm.
 */

export type EmailChangeSendRefusal = 'cooldown' | 'flow-limit' | 'account-limit';

const codeMac = (ring: KeyRing, flowId: string, code: string): Buffer => hmac(ring.macKey, `email-change-code\u0000${flowId}\u0000${code}`);

/**
 * Sends a (new) code for a locked email-change flow to `to`, revoking the previous one. Per
 * account, at most as many such codes per hour as the pages that mail an address nobody has
 * proved yet (activation, recovery): this page must not become a way to mail anyone.
 */
export async function sendEmailChangeCode(
  tx: Tx,
  deps: CodeDeps,
  flow: Flow,
  to: string,
  mail: { locale: MailLocale; browser: string | null; os: string | null; requestId: string },
): Promise<{ ok: true; flow: Flow; expiresAt: Date } | { ok: false; reason: EmailChangeSendRefusal; retryAt?: Date }> {
  const { ring, clock, policy } = deps;
  const accountId = flow.accountId;
  if (!accountId) throw new Error('an email-change flow without its account');
  const now = clock.now();
  const next = nextSendAt(flow, policy);
  if (next === null) return { ok: false, reason: 'flow-limit' };
  if (next.getTime() > now.getTime()) return { ok: false, reason: 'cooldown', retryAt: next };

  // The account's code lock (the one sendCode takes) serialises the count between its flows.
  const [, { rows }] = await Promise.all([
    lockAccountCodes(tx, accountId),
    tx.query<{ sent: number }>(
      `SELECT count(*)::int AS sent FROM one_time_codes c JOIN email_changes e ON e.flow_id = c.flow_id WHERE e.account_id = $1 AND c.sent_at > $2`,
      [accountId, new Date(now.getTime() - 3600 * 1000)],
    ),
  ]);
  if ((rows[0]?.sent ?? 0) >= policy.unauthenticatedCodesPerAccountPerHour) {
    await audit(tx, clock, { type: 'code.refused', accountId, requestId: mail.requestId, payload: { flowId: flow.id, reason: 'account-limit' } });
    return { ok: false, reason: 'account-limit' };
  }

  const code = randomDigits(6);
  const expiresAt = new Date(now.getTime() + policy.codeTtl * 1000);
  tx.send(
    `WITH revoked AS (UPDATE one_time_codes SET revoked_at = $5 WHERE flow_id = $2 AND used_at IS NULL AND revoked_at IS NULL)
     INSERT INTO one_time_codes (id, flow_id, account_id, code_mac, sent_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [newId(), flow.id, accountId, codeMac(ring, flow.id, code), now, expiresAt],
  );
  await queueMail(tx, { ring, clock }, {
    accountId,
    to,
    template: 'contact-email-code',
    locale: mail.locale,
    params: { code, requestedAt: now.toISOString(), expiresAt: expiresAt.toISOString(), browser: mail.browser, os: mail.os },
  });
  tx.send(`UPDATE auth_flows SET codes_sent = codes_sent + 1, last_code_sent_at = $2 WHERE id = $1`, [flow.id, now]);
  await audit(tx, clock, { type: 'code.sent', accountId, requestId: mail.requestId, payload: { flowId: flow.id, purpose: 'email-change', delivered: true, number: flow.codesSent + 1 } });
  return { ok: true, flow: { ...flow, codesSent: flow.codesSent + 1, lastCodeSentAt: now }, expiresAt };
}

/**
 * Checks a code for a locked email-change flow; the flow is over (`exhausted`) after the
 * policy's number of wrong entries, across every code it was sent.
 */
export function verifyEmailChangeCode(tx: Tx, deps: CodeDeps, flow: Flow, input: string, requestId: string): Promise<{ ok: true } | { ok: false; reason: VerifyRefusal; remaining: number }> {
  return verifyFlowCode(tx, deps, flow, input, codeMac, requestId);
}
