import { z } from 'zod';
import { accountCipher } from '../../accounts/account-keys.ts';
import { audit } from '../../audit/log.ts';
import type { AuthDeps } from '../../auth/auth-deps.ts';
import { createFlow, endFlow, loadFlow, type Flow, type FlowProblem } from '../../auth/flows/flow.ts';
import { currentCodeExpiry, type VerifyRefusal } from '../../auth/methods/email-code.ts';
import { normaliseEmail } from '../../crypto/blind-index.ts';
import { system, type Tx } from '../../db/contexts.ts';
import type { ClientInfo } from '../../web/client.ts';
import type { Locale } from '../../web/i18n.ts';
import { sendEmailChangeCode, verifyEmailChangeCode, type EmailChangeSendRefusal } from './email-change-code.ts';

/**
 * A change of email address is a flow (DESIGN principle 4): a `confirm` flow of the session in
 * state `email-change`, bound to the browser, with the addresses it is about (encrypted,
 * email_changes) and the code sent to the new one. The change itself is made afterwards, in
 * the citizen's context, once the code is verified (routes.ts: applyEmailChange).
 */

export const EMAIL_CHANGE_STATE = 'email-change';

const email = z.email().max(254);

export type EmailProblem = 'required' | 'invalid' | 'same';

/** The new address as typed: trimmed, checked, and not the current one (case aside). */
export function parseNewEmail(input: string, current: string | null): { ok: true; email: string } | { ok: false; problem: EmailProblem } {
  const typed = input.trim();
  if (typed === '') return { ok: false, problem: 'required' };
  if (!email.safeParse(typed).success) return { ok: false, problem: 'invalid' };
  if (current !== null && normaliseEmail(current) === normaliseEmail(typed)) return { ok: false, problem: 'same' };
  return { ok: true, email: typed };
}

/** The addresses a flow is about: the one on file when it started (null: none) and the new one. */
export interface EmailAddresses {
  from: string | null;
  to: string;
}

const addressesField = (flowId: string): string => `email-change:${flowId}`;
const addressesSchema = z.object({ from: z.string().nullable(), to: z.string() });

async function readAddresses(tx: Tx, deps: AuthDeps, flow: Flow): Promise<EmailAddresses | null> {
  if (!flow.accountId) return null;
  const [{ rows }, cipher] = await Promise.all([
    tx.query<{ addresses: Uint8Array }>(`SELECT addresses FROM email_changes WHERE flow_id = $1 AND account_id = $2`, [flow.id, flow.accountId]),
    accountCipher(tx, deps.ring, flow.accountId),
  ]);
  const blob = rows[0]?.addresses;
  if (!blob || !cipher) return null;
  return addressesSchema.parse(cipher.decryptJson(addressesField(flow.id), Buffer.from(blob)));
}

class Refused extends Error {
  readonly refusal: { reason: EmailChangeSendRefusal; retryAt?: Date };
  constructor(refusal: { reason: EmailChangeSendRefusal; retryAt?: Date }) {
    super('email change refused');
    this.refusal = refusal;
  }
}

export type StartResult = { ok: true; flowId: string } | { ok: false; reason: EmailChangeSendRefusal; retryAt?: Date };

/** Opens the flow and mails the first code to the new address; nothing is kept if the code cannot be sent. */
export async function startEmailChange(
  deps: AuthDeps,
  input: { accountId: string; sessionId: string; csrfBinding: string; addresses: EmailAddresses; locale: Locale; client: ClientInfo; requestId: string },
): Promise<StartResult> {
  try {
    return await system(deps.db, 'email-change', async (tx) => {
      const cipher = await accountCipher(tx, deps.ring, input.accountId);
      if (!cipher) throw new Error('the account has no data key');
      const flow = await createFlow(tx, deps.clock, {
        kind: 'confirm',
        state: EMAIL_CHANGE_STATE,
        accountId: input.accountId,
        csrfBinding: input.csrfBinding,
        ttlSeconds: deps.policy.flowTtl,
        sessionId: input.sessionId,
        returnTo: '/account/contact',
      });
      tx.send(`INSERT INTO email_changes (flow_id, account_id, addresses, created_at) VALUES ($1, $2, $3, $4)`, [
        flow.id,
        input.accountId,
        cipher.encryptJson(addressesField(flow.id), input.addresses),
        deps.clock.now(),
      ]);
      const sent = await sendEmailChangeCode(tx, deps, flow, input.addresses.to, { locale: input.locale, browser: input.client.browser, os: input.client.os, requestId: input.requestId });
      // Rolls the flow back with the rest: a refused start leaves nothing behind.
      if (!sent.ok) throw new Refused(sent);
      await audit(tx, deps.clock, { type: 'contact.email-change-requested', accountId: input.accountId, requestId: input.requestId, payload: { flowId: flow.id, sessionId: input.sessionId } });
      return { ok: true, flowId: flow.id };
    });
  } catch (err) {
    if (err instanceof Refused) return { ok: false, ...err.refusal };
    throw err;
  }
}

/** What the code page shows. */
export interface EmailChangeState {
  flow: Flow;
  to: string;
  codeExpiresAt: Date | null;
}

type Loaded = { ok: true; flow: Flow; addresses: EmailAddresses } | { ok: false; problem: FlowProblem };

/** Loads and locks the session's own email-change flow for this browser; any other flow is "not found". */
async function loadOwn(tx: Tx, deps: AuthDeps, flowId: string, sessionId: string, csrfBinding: string): Promise<Loaded> {
  const loaded = await loadFlow(tx, deps.clock, flowId, { kind: 'confirm', csrfBinding });
  if (!loaded.ok) return loaded;
  const { flow } = loaded;
  if (flow.sessionId !== sessionId || flow.state !== EMAIL_CHANGE_STATE) return { ok: false, problem: 'not-found' };
  const addresses = await readAddresses(tx, deps, flow);
  if (!addresses) return { ok: false, problem: 'not-found' };
  return { ok: true, flow, addresses };
}

export async function emailChangeState(deps: AuthDeps, input: { flowId: string; sessionId: string; csrfBinding: string }): Promise<{ ok: true; state: EmailChangeState } | { ok: false; problem: FlowProblem }> {
  return system(deps.db, 'email-change', async (tx) => {
    const loaded = await loadOwn(tx, deps, input.flowId, input.sessionId, input.csrfBinding);
    if (!loaded.ok) return loaded;
    return { ok: true, state: { flow: loaded.flow, to: loaded.addresses.to, codeExpiresAt: currentCodeExpiry(loaded.flow, deps.policy) } };
  });
}

export async function resendEmailChangeCode(
  deps: AuthDeps,
  input: { flowId: string; sessionId: string; csrfBinding: string; locale: Locale; client: ClientInfo; requestId: string },
): Promise<{ ok: true } | { ok: false; problem: FlowProblem } | { ok: false; refusal: EmailChangeSendRefusal; retryAt?: Date }> {
  return system(deps.db, 'email-change', async (tx) => {
    const loaded = await loadOwn(tx, deps, input.flowId, input.sessionId, input.csrfBinding);
    if (!loaded.ok) return loaded;
    const sent = await sendEmailChangeCode(tx, deps, loaded.flow, loaded.addresses.to, { locale: input.locale, browser: input.client.browser, os: input.client.os, requestId: input.requestId });
    return sent.ok ? { ok: true } : { ok: false, refusal: sent.reason, retryAt: sent.retryAt };
  });
}

export type VerifyResult = { ok: true; flowId: string; addresses: EmailAddresses } | { ok: false; problem: FlowProblem } | { ok: false; refusal: VerifyRefusal; remaining: number };

/**
 * The code typed: verified, and the flow ended (its addresses wiped) in the same transaction.
 * The change itself is then the caller's, in the citizen context.
 */
export async function verifyEmailChange(deps: AuthDeps, input: { flowId: string; sessionId: string; csrfBinding: string; code: string; requestId: string }): Promise<VerifyResult> {
  return system(deps.db, 'email-change', async (tx): Promise<VerifyResult> => {
    const loaded = await loadOwn(tx, deps, input.flowId, input.sessionId, input.csrfBinding);
    if (!loaded.ok) return loaded;
    const checked = await verifyEmailChangeCode(tx, deps, loaded.flow, input.code, input.requestId);
    if (!checked.ok) return { ok: false, refusal: checked.reason, remaining: checked.remaining };
    await endFlow(tx, deps.clock, loaded.flow.id, 'done');
    tx.send(`DELETE FROM email_changes WHERE flow_id = $1`, [loaded.flow.id]);
    return { ok: true, flowId: loaded.flow.id, addresses: loaded.addresses };
  });
}
