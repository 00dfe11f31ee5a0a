import type { FastifyRequest } from 'fastify';
import { system, type Tx } from '../../../db/contexts.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { authenticatorKinds } from '../../authenticators.ts';
import { verifyRecoveryCode } from '../../methods/recovery-codes.ts';
import { verifyTotp } from '../../methods/totp.ts';
import { finishMethod, type Finished } from '../finish.ts';
import { loadFlow, setFlowAuthenticator, type Flow, type FlowProblem } from '../flow.ts';
import type { SecondStepMethod } from './views.ts';

export type SecondStepKind = 'login' | 'step-up';

/** Why the step is not offered: the flow is gone, or it is not at a point where this method applies (back to its page). */
export type StepProblem = { ok: false; problem: FlowProblem } | { ok: false; notHere: true };

export interface StepInput {
  kind: SecondStepKind;
  flowId: string;
  csrfBinding: string;
  /** The browser's session (step-up only): a step-up flow answers only the session it raises. */
  sessionId: string | null;
}

/**
 * Loads and locks the flow, and checks that this method applies: the password is verified
 * (these are second steps), the account has an authenticator app, and a step-up flow is this
 * session's. A flow of another session reads as not found, like one of another browser.
 */
async function loadStep(tx: Tx, deps: AuthDeps, input: StepInput): Promise<{ ok: true; flow: Flow } | StepProblem> {
  const loaded = await loadFlow(tx, deps.clock, input.flowId, { kind: input.kind, csrfBinding: input.csrfBinding });
  if (!loaded.ok) return loaded;
  const { flow } = loaded;
  if (input.kind === 'step-up' && (flow.sessionId === null || flow.sessionId !== input.sessionId)) return { ok: false, problem: 'not-found' };
  if (!flow.accountId || !flow.completedMethods.includes('password')) return { ok: false, notHere: true };
  if (!(await authenticatorKinds(tx, flow.accountId)).has('totp')) return { ok: false, notHere: true };
  return { ok: true, flow };
}

/** Whether the step's page may be shown. */
export async function checkStep(deps: AuthDeps, input: StepInput): Promise<{ ok: true } | StepProblem> {
  return system(deps.db, input.kind, async (tx) => {
    const step = await loadStep(tx, deps, input);
    return step.ok ? { ok: true } : step;
  });
}

export type CompleteResult = { ok: true; finished: Finished } | StepProblem | { ok: false; refusal: string; remaining: number };

/**
 * Verifies a code from the app or a recovery code and, in the same transaction, finishes the
 * flow (password + either of them: eidas2, see levels.ts). The app used (for a recovery code,
 * the app its set belongs to) is recorded on the flow: its cooling-off applies.
 */
export async function completeSecondStep(
  deps: AuthDeps,
  request: FastifyRequest,
  input: StepInput & { method: SecondStepMethod; code: string; locale: Locale; client: ClientInfo },
): Promise<CompleteResult> {
  return system(deps.db, input.kind, async (tx): Promise<CompleteResult> => {
    const step = await loadStep(tx, deps, input);
    if (!step.ok) return step;
    const verified = input.method === 'totp' ? await verifyTotp(tx, deps, step.flow, input.code, request.id) : await verifyRecoveryCode(tx, deps, step.flow, input.code, request.id);
    if (!verified.ok) return { ok: false, refusal: verified.reason, remaining: verified.remaining };
    const flow = setFlowAuthenticator(tx, step.flow, verified.authenticatorId);
    const finished = await finishMethod(tx, deps, request, flow, input.method, { locale: input.locale, client: input.client, authenticatorId: verified.authenticatorId });
    // Password + app (or recovery code) is eidas2, which meets what a login or a step-up asks.
    if (!finished) throw new Error('an authenticator app code did not finish its flow');
    return { ok: true, finished };
  });
}
