import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { system, type Tx } from '../../../db/contexts.ts';
import { clientOf } from '../../../web/client.ts';
import { csrfBinding } from '../../../web/csrf.ts';
import { field } from '../../../web/forms.ts';
import { localeOf } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { approvalState, startApproval, takeApproval } from '../../methods/device-approval.ts';
import { sendFlowOver } from '../code-routes.ts';
import { answerFinished, finishMethod, type Finished } from '../finish.ts';
import { loadFlow, setFlowAuthenticator, type Flow, type FlowProblem } from '../flow.ts';
import { endsFlow, refusalAlert, sendOutcomePage, sendStartPage, sendWaitPage, type Outcome } from './step-view.ts';

/**
 * Device approval as the second step of a login, or of a step-up (after the password):
 * `${base}/:flow/device` sends a request to the phone, `${base}/:flow/device/:approval` waits
 * for it (its /status answers the page's script) and, posted, finishes the flow once the
 * phone approved. Everything runs on the flow, locked and bound to this browser (loadFlow).
 */
type Base = '/login' | '/step-up';
const KIND = { '/login': 'login', '/step-up': 'step-up' } as const;
/** Where a flow that is over starts again. */
const RESTART: Record<Base, string> = { '/login': '/login', '/step-up': '/account' };

type Loaded = { ok: true; flow: Flow } | { ok: false; problem: FlowProblem | 'not-ready' };

export async function deviceStepRoutes(app: FastifyInstance, deps: AuthDeps, base: Base): Promise<void> {
  const { clock, policy } = deps;
  const kind = KIND[base];
  const flowUrl = (id: string): string => `${base}/${id}`;

  /**
   * Runs `fn` on the live flow, once the password is done; a step-up must also be the
   * session's own. The session is read before the flow's transaction opens (it takes its own).
   */
  async function onFlow<T>(request: FastifyRequest, reply: FastifyReply, flowId: string, fn: (tx: Tx, loaded: Loaded) => Promise<T>): Promise<T> {
    const session = base === '/step-up' ? await request.session() : null;
    const binding = csrfBinding(request, reply);
    return system(deps.db, kind, async (tx) => {
      const loaded = await loadFlow(tx, clock, flowId, { kind, csrfBinding: binding });
      if (!loaded.ok) return fn(tx, loaded);
      const { flow } = loaded;
      if (base === '/step-up' && (!session || flow.sessionId !== session.id)) return fn(tx, { ok: false, problem: 'other-browser' });
      if (!flow.completedMethods.includes('password') || !flow.accountId) return fn(tx, { ok: false, problem: 'not-ready' });
      return fn(tx, loaded);
    });
  }

  function answerProblem(request: FastifyRequest, reply: FastifyReply, flowId: string, problem: FlowProblem | 'not-ready'): FastifyReply {
    if (problem === 'not-ready') return reply.redirect(flowUrl(flowId), 303);
    return sendFlowOver(request, reply, RESTART[base], problem);
  }

  const page = (request: FastifyRequest, reply: FastifyReply, flowId: string, status?: number) => ({ request, reply, locale: localeOf(request), flowUrl: flowUrl(flowId), status });

  app.get<{ Params: { flow: string } }>(`${base}/:flow/device`, async (request, reply) => {
    const { flow } = request.params;
    const loaded = await onFlow(request, reply, flow, async (_tx, l) => l);
    if (!loaded.ok) return answerProblem(request, reply, flow, loaded.problem);
    return sendStartPage({ ...page(request, reply, flow), ttlSeconds: policy.approvalTtl });
  });

  app.post<{ Params: { flow: string } }>(`${base}/:flow/device`, async (request, reply) => {
    const { flow } = request.params;
    if (field(request, 'method') !== 'device-approval') return reply.code(400).send();
    const client = clientOf(request);
    const result = await onFlow(request, reply, flow, async (tx, l) => (l.ok ? { ok: true as const, started: await startApproval(tx, deps, l.flow, { browser: client.browser, os: client.os, requestId: request.id }) } : l));
    if (!result.ok) return answerProblem(request, reply, flow, result.problem);
    const { started } = result;
    if (started.ok) return reply.redirect(`${flowUrl(flow)}/device/${started.approvalId}`, 303);
    const locale = localeOf(request);
    return sendStartPage({
      ...page(request, reply, flow, started.reason === 'no-device' ? 409 : 429),
      ttlSeconds: policy.approvalTtl,
      refusal: refusalAlert(locale, started, { windowSeconds: policy.approvalWindow, timeZone: deps.timeZone }),
    });
  });

  /** The request's state; for a flow a refusal ended, read all the same (this browser's flow: loadFlow checked the binding first). */
  async function stateOf(request: FastifyRequest, reply: FastifyReply, flowId: string, approvalId: string) {
    return onFlow(request, reply, flowId, async (tx, l) => {
      if (!l.ok && l.problem !== 'ended') return { ok: false as const, problem: l.problem };
      const state = await approvalState(tx, clock, flowId, approvalId);
      if (!state) return { ok: false as const, problem: 'not-found' as const };
      return { ok: true as const, state, flowEnded: !l.ok };
    });
  }

  function answerOutcome(request: FastifyRequest, reply: FastifyReply, flowId: string, outcome: Outcome): FastifyReply {
    return sendOutcomePage({ ...page(request, reply, flowId, outcome === 'denied' ? 403 : 410), outcome, restart: RESTART[base] });
  }

  app.get<{ Params: { flow: string; approval: string } }>(`${base}/:flow/device/:approval`, async (request, reply) => {
    const { flow, approval } = request.params;
    const read = await stateOf(request, reply, flow, approval);
    if (!read.ok) return answerProblem(request, reply, flow, read.problem);
    const { state } = read;
    if (endsFlow(state.status)) return answerOutcome(request, reply, flow, state.status);
    if (read.flowEnded) return answerProblem(request, reply, flow, 'ended');
    if (state.status === 'pending' || state.status === 'approved') {
      return sendWaitPage({ ...page(request, reply, flow), approvalId: approval, expected: state.expected, expiresAt: state.expiresAt, timeZone: deps.timeZone });
    }
    return answerOutcome(request, reply, flow, state.status);
  });

  // For the waiting page's script: JSON, nothing changes (the POST below does).
  app.get<{ Params: { flow: string; approval: string } }>(`${base}/:flow/device/:approval/status`, async (request, reply) => {
    const { flow, approval } = request.params;
    const read = await stateOf(request, reply, flow, approval);
    if (!read.ok) return reply.code(404).send({ status: 'gone' });
    return reply.send({ status: read.flowEnded && !endsFlow(read.state.status) ? 'gone' : read.state.status });
  });

  app.post<{ Params: { flow: string; approval: string } }>(`${base}/:flow/device/:approval`, async (request, reply) => {
    const { flow: flowId, approval } = request.params;
    if (field(request, 'method') !== 'device-approval') return reply.code(400).send();
    const locale = localeOf(request);
    const client = clientOf(request);
    type Answer = { problem: FlowProblem | 'not-ready' } | { outcome: Outcome } | { pending: { expected: number; expiresAt: Date } } | { finished: Finished } | { more: true };
    const answer = await onFlow(request, reply, flowId, async (tx, l): Promise<Answer> => {
      if (!l.ok) {
        if (l.problem !== 'ended') return { problem: l.problem };
        const state = await approvalState(tx, clock, flowId, approval);
        return state && endsFlow(state.status) ? { outcome: state.status } : { problem: 'ended' };
      }
      const taken = await takeApproval(tx, clock, l.flow, approval, request.id);
      if (taken.status === 'pending') {
        const state = await approvalState(tx, clock, flowId, approval);
        return state ? { pending: { expected: state.expected, expiresAt: state.expiresAt } } : { outcome: 'gone' };
      }
      if (taken.status !== 'approved') return { outcome: taken.status };
      // The device's cooling-off applies to the session it opens (finishMethod reads it).
      const flow = setFlowAuthenticator(tx, l.flow, taken.authenticatorId);
      const finished = await finishMethod(tx, deps, request, flow, 'device-approval', { locale, client, authenticatorId: taken.authenticatorId });
      return finished ? { finished } : { more: true };
    });
    if ('problem' in answer) return answerProblem(request, reply, flowId, answer.problem);
    if ('outcome' in answer) return answerOutcome(request, reply, flowId, answer.outcome);
    if ('pending' in answer) return sendWaitPage({ ...page(request, reply, flowId), approvalId: approval, ...answer.pending, timeZone: deps.timeZone, notYet: true });
    if ('more' in answer) return reply.redirect(flowUrl(flowId), 303);
    // After the commit: the session exists once the cookie is set.
    return answerFinished(request, reply, deps, answer.finished);
  });
}
