import assert from 'node:assert/strict';
import { createFlow, loadFlow, type FlowProblem } from '../../src/auth/flows/flow.ts';
import { sendCode, verifyCode, type SendRefusal, type VerifyRefusal } from '../../src/auth/methods/email-code.ts';
import { system } from '../../src/db/contexts.ts';
import type { TestApp } from './app.ts';
import { mailsFor } from './login.ts';

/**
 * The email-code method driven directly (no HTTP), on the app's database, key ring, clock and
 * configured policy, the way the login routes drive it: every step loads and locks its flow.
 */
export const BROWSER_A = 'binding-of-browser-a';
export const BROWSER_B = 'binding-of-browser-b';

/** A login flow whose password step is done, waiting for the email code. */
export async function loginFlowFor(t: TestApp, accountId: string, binding = BROWSER_A): Promise<string> {
  const flow = await system(t.deps.db, 'test', (tx) =>
    createFlow(tx, t.deps.clock, { kind: 'login', state: 'second-factor', accountId, csrfBinding: binding, ttlSeconds: t.deps.config.auth.flowTtl, completed: ['password'] }),
  );
  return flow.id;
}

export type SendOutcome = { ok: true; expiresAt: Date } | { ok: false; reason: SendRefusal | FlowProblem; retryAt?: Date };

export async function send(t: TestApp, flowId: string, binding = BROWSER_A): Promise<SendOutcome> {
  const deps = { ring: t.deps.ring, clock: t.deps.clock, policy: t.deps.config.auth };
  return system(t.deps.db, 'test', async (tx): Promise<SendOutcome> => {
    const loaded = await loadFlow(tx, t.deps.clock, flowId, { kind: 'login', csrfBinding: binding });
    if (!loaded.ok) return { ok: false, reason: loaded.problem };
    const sent = await sendCode(tx, deps, loaded.flow, { purpose: 'login', locale: 'fr', browser: null, os: null });
    if (sent.ok) return { ok: true, expiresAt: sent.expiresAt };
    return sent.retryAt ? { ok: false, reason: sent.reason, retryAt: sent.retryAt } : { ok: false, reason: sent.reason };
  });
}

/** Sends and returns the code that was mailed; fails the test if the send is refused. */
export async function sendAndRead(t: TestApp, flowId: string, accountId: string, binding = BROWSER_A): Promise<string> {
  const sent = await send(t, flowId, binding);
  assert.deepEqual(sent.ok, true, `send refused: ${JSON.stringify(sent)}`);
  return lastCodeMailed(t, accountId);
}

export type VerifyOutcome = { ok: true } | { ok: false; reason: VerifyRefusal | FlowProblem; remaining?: number };

export async function verify(t: TestApp, flowId: string, code: string, binding = BROWSER_A): Promise<VerifyOutcome> {
  const deps = { ring: t.deps.ring, clock: t.deps.clock, policy: t.deps.config.auth };
  return system(t.deps.db, 'test', async (tx): Promise<VerifyOutcome> => {
    const loaded = await loadFlow(tx, t.deps.clock, flowId, { kind: 'login', csrfBinding: binding });
    if (!loaded.ok) return { ok: false, reason: loaded.problem };
    return verifyCode(tx, deps, loaded.flow, code);
  });
}

/** The code in the newest one-time-code mail queued for the account. */
export async function lastCodeMailed(t: TestApp, accountId: string): Promise<string> {
  const mail = (await mailsFor(t, accountId)).find((m) => m.template === 'one-time-code');
  assert.ok(mail, 'no code mail was queued');
  const code = String(mail.params.code);
  assert.match(code, /^\d{6}$/);
  return code;
}

/** How many code mails were queued for the account. */
export async function codeMailCount(t: TestApp, accountId: string): Promise<number> {
  return (await mailsFor(t, accountId)).filter((m) => m.template === 'one-time-code').length;
}

/** A 6-digit code that is not `code` (a guaranteed wrong guess). */
export const wrongCode = (code: string, n = 1): string => String((Number(code) + n) % 1_000_000).padStart(6, '0');
