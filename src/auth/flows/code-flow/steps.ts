import { readField } from '../../../accounts/accounts.ts';
import { system, type Tx } from '../../../db/contexts.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { verifyCode, type VerifyRefusal } from '../../methods/email-code.ts';
import { advanceFlow, loadFlow, type Flow, type FlowProblem } from '../flow.ts';
import type { CodeFlowKind, Finish } from './spec.ts';

/**
 * The code and password steps of an emailed-code flow. A flow without account behaves like
 * any other (codes counted, wrong codes counted until the flow fails): only the right code
 * tells, and only the owner of the address has it.
 */

/** The right code moves the flow on to choosing the password. */
export async function checkCode(
  deps: AuthDeps,
  kind: CodeFlowKind,
  input: { flowId: string; csrfBinding: string; code: string; requestId: string },
): Promise<{ ok: true } | { ok: false; problem: FlowProblem } | { ok: false; refusal: VerifyRefusal; remaining: number }> {
  return system(deps.db, kind, async (tx) => {
    const loaded = await loadFlow(tx, deps.clock, input.flowId, { kind, csrfBinding: input.csrfBinding });
    if (!loaded.ok) return loaded;
    if (loaded.flow.state !== 'code') return { ok: true };
    const checked = await verifyCode(tx, deps, loaded.flow, input.code, input.requestId);
    if (!checked.ok) return { ok: false, refusal: checked.reason, remaining: checked.remaining };
    await advanceFlow(tx, loaded.flow, 'choose-password', 'email-code');
    return { ok: true };
  });
}

/** 'wrong-state': the flow is alive but not at this step (the code is not verified yet). */
export type PasswordStepProblem = FlowProblem | 'wrong-state' | 'account-changed';

async function nirOf(tx: Tx, deps: AuthDeps, kind: CodeFlowKind, accountId: string): Promise<string> {
  const nir = await readField(tx, deps.ring, accountId, 'nir');
  if (!nir) throw new Error(`${kind} flow for an account that cannot be read`);
  return nir;
}

/** A flow that may take the password; only the code opens this state, so it has an account. */
async function choosing(tx: Tx, deps: AuthDeps, kind: CodeFlowKind, flowId: string, csrfBinding: string): Promise<{ ok: true; flow: Flow; accountId: string } | { ok: false; problem: PasswordStepProblem }> {
  const loaded = await loadFlow(tx, deps.clock, flowId, { kind, csrfBinding });
  if (!loaded.ok) return loaded;
  const { flow } = loaded;
  if (flow.state !== 'choose-password') return { ok: false, problem: 'wrong-state' };
  if (!flow.accountId) throw new Error(`${kind} flow past the code without an account`);
  return { ok: true, flow, accountId: flow.accountId };
}

/** The account's NIR, which the new password must not contain. */
export async function passwordContext(deps: AuthDeps, kind: CodeFlowKind, flowId: string, csrfBinding: string): Promise<{ ok: true; nir: string } | { ok: false; problem: PasswordStepProblem }> {
  return system(deps.db, kind, async (tx) => {
    const at = await choosing(tx, deps, kind, flowId, csrfBinding);
    return at.ok ? { ok: true, nir: await nirOf(tx, deps, kind, at.accountId) } : at;
  });
}

/**
 * Sets the password with the flow's `finish`, all or nothing. Hashed before the transaction
 * so that no lock is held during Argon2id; the flow is then locked again and must still be
 * waiting for its password (a second tab cannot set it twice).
 */
export async function completeWithPassword(
  deps: AuthDeps,
  kind: CodeFlowKind,
  finish: Finish,
  input: { flowId: string; csrfBinding: string; password: string; nir: string; locale: Locale; client: ClientInfo; requestId: string },
): Promise<{ ok: true } | { ok: false; problem: PasswordStepProblem }> {
  const hash = await deps.verifier.hasher.hash(input.password);
  return system(deps.db, kind, async (tx) => {
    const at = await choosing(tx, deps, kind, input.flowId, input.csrfBinding);
    if (!at.ok) return at;
    return finish(tx, deps, { flow: at.flow, accountId: at.accountId, hash, nir: input.nir, locale: input.locale, client: input.client, requestId: input.requestId });
  });
}
