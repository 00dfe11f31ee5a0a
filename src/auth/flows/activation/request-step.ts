import { timingSafeEqual } from 'node:crypto';
import { accountCipher } from '../../../accounts/account-keys.ts';
import { findAccountByNir } from '../../../accounts/accounts.ts';
import { audit } from '../../../audit/log.ts';
import { system, type Tx } from '../../../db/contexts.ts';
import type { KeyRing } from '../../../crypto/keyring.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { sendCode } from '../../methods/email-code.ts';
import { clientAllowed, clientKey, type ThrottleVerdict } from '../../throttle.ts';
import { createFlow, endFlow, type Flow } from '../flow.ts';

export type ActivationRequestResult = { ok: true; flowId: string } | { ok: false; verdict: Exclude<ThrottleVerdict, { ok: true }> };

/** Only the birth date is decrypted, and only for an account waiting for activation. */
async function birthDateOf(tx: Tx, ring: KeyRing, accountId: string): Promise<string | null> {
  const { rows } = await tx.query<{ birth_date: Uint8Array }>(`SELECT birth_date FROM accounts WHERE id = $1`, [accountId]);
  const blob = rows[0]?.birth_date;
  const cipher = blob ? await accountCipher(tx, ring, accountId) : null;
  return blob && cipher ? cipher.decrypt('birth_date', Buffer.from(blob)) : null;
}

const sameDate = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * First step of an activation: NIR + birth date. A flow is created and a code "sent" whatever
 * matched, so that the next page is the same for everyone; only a pending account whose
 * birth date matches gets a flow with an account, and so a real code.
 */
export async function requestActivation(
  deps: AuthDeps,
  input: { nir: string; birthDate: string; client: ClientInfo; csrfBinding: string; locale: Locale; requestId: string },
): Promise<ActivationRequestResult> {
  const { db, ring, clock, policy } = deps;
  return system(db, 'activation', async (tx): Promise<ActivationRequestResult> => {
    const verdict = await clientAllowed(tx, clock, policy, clientKey(ring.macKey, input.client.ip));
    if (!verdict.ok) {
      await audit(tx, clock, { type: 'login.throttled', accountId: null, requestId: input.requestId, payload: { reason: verdict.reason, step: 'activation' } });
      return { ok: false, verdict };
    }
    const account = await findAccountByNir(tx, ring, input.nir);
    const pending = account?.status === 'pending_activation' ? account : null;
    const storedDate = pending ? await birthDateOf(tx, ring, pending.id) : null;
    const matched = pending !== null && storedDate !== null && sameDate(storedDate, input.birthDate);

    const mail = { purpose: 'activation', locale: input.locale, browser: input.client.browser, os: input.client.os, requestId: input.requestId } as const;
    const start = (accountId: string | null): Promise<Flow> =>
      createFlow(tx, clock, { kind: 'activation', state: 'code', accountId, csrfBinding: input.csrfBinding, ttlSeconds: policy.flowTtl });
    let flow = await start(matched ? pending.id : null);
    const sent = await sendCode(tx, deps, flow, mail);
    if (!sent.ok && flow.accountId !== null) {
      // No address on file, or the account's hourly limit reached: go on with a flow without
      // account, so the page is the one anyone gets (the refusal itself is audited).
      await endFlow(tx, clock, flow.id, 'refused');
      flow = await start(null);
      // A new flow without account is never refused: it has sent nothing yet.
      await sendCode(tx, deps, flow, mail);
    }
    await audit(tx, clock, { type: 'activation.requested', accountId: flow.accountId, requestId: input.requestId, payload: { flowId: flow.id, matched: flow.accountId !== null } });
    return { ok: true, flowId: flow.id };
  });
}
