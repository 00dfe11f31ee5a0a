import type { FastifyRequest } from 'fastify';
import { system } from '../../../db/contexts.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { verifyCode, type VerifyRefusal } from '../../methods/email-code.ts';
import { finishMethod, type Finished } from '../finish.ts';
import { loadFlow, type FlowKind, type FlowProblem } from '../flow.ts';

export type CompleteResult = { ok: true; finished: Finished } | { ok: false; problem: FlowProblem } | { ok: false; refusal: VerifyRefusal; remaining: number };

/**
 * The email code as the step that finishes a login (password + code: eidas1) or a
 * confirmation asked from a session (a fresh code). A login's session gets a fresh token
 * (never one the browser brought: no fixation); see finish.ts.
 */
export async function completeWithCode(
  deps: AuthDeps,
  request: FastifyRequest,
  input: { kind: Extract<FlowKind, 'login' | 'confirm'>; flowId: string; sessionId?: string; csrfBinding: string; code: string; locale: Locale; client: ClientInfo },
): Promise<CompleteResult> {
  return system(deps.db, input.kind, async (tx): Promise<CompleteResult> => {
    const loaded = await loadFlow(tx, deps.clock, input.flowId, { kind: input.kind, csrfBinding: input.csrfBinding });
    if (!loaded.ok) return loaded;
    // A confirmation belongs to the session that asked for it.
    if (input.sessionId !== undefined && loaded.flow.sessionId !== input.sessionId) return { ok: false, problem: 'not-found' };
    const checked = await verifyCode(tx, deps, loaded.flow, input.code, request.id);
    if (!checked.ok) return { ok: false, refusal: checked.reason, remaining: checked.remaining };
    const finished = await finishMethod(tx, deps, request, loaded.flow, 'email-code', { locale: input.locale, client: input.client });
    // A code only verifies for a flow with an account, and password + code is a level.
    if (!finished) throw new Error('an email code did not finish its flow');
    return { ok: true, finished };
  });
}
