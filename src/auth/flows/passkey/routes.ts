import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientOf } from '../../../web/client.ts';
import { csrfBinding } from '../../../web/csrf.ts';
import { localeOf, t } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { completeWithPasskey, startPasskeyLogin, startPasskeyStepUp, type AssertionStepResult, type PasskeyFlowKind } from './assertion.ts';
import { answerFinishedJson, assertionOf, sendJsonError } from './json.ts';

/**
 * Passkey ceremonies as a first step: /login (alone, eidas2) and a step-up of the current
 * session. JSON in and out, posted by passkey.js with the CSRF token in X-CSRF-Token (the
 * CSRF hook checks it before any handler runs).
 */
export async function passkeyFlowRoutes(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  const json = { config: { json: true } } as const;

  function refused(request: FastifyRequest, reply: FastifyReply, kind: PasskeyFlowKind, result: Exclude<AssertionStepResult, { ok: true }>): FastifyReply {
    const locale = localeOf(request);
    if (result.reason === 'throttled') {
      if (result.retryAt) reply.header('retry-after', Math.max(1, Math.ceil((result.retryAt.getTime() - deps.clock.now().getTime()) / 1000)));
      return sendJsonError(reply, 429, 'throttled', t(locale, 'passkey.throttled'));
    }
    if (result.reason === 'flow') {
      request.log.info({ event: 'passkey-flow-refused', kind, problem: result.problem }, 'passkey flow refused');
      // Another browser's or another session's flow answers as an unknown one: a 409 would tell
      // whoever holds a stolen flow id that it exists.
      const foreign = result.problem === 'not-found' || result.problem === 'other-browser' || result.problem === 'other-session';
      return sendJsonError(reply, foreign ? 404 : 409, 'flow', t(locale, 'passkey.expired'));
    }
    // One answer for an unknown credential, a bad signature, another account's passkey, a
    // replayed challenge: the audit log has the reason, the client learns nothing to aim with.
    return sendJsonError(reply, 401, 'refused', t(locale, 'passkey.failed'));
  }

  /** The assertion posted for the flow in the URL: the login (or step-up of `sessionId`) finished, or refused. */
  async function complete(request: FastifyRequest<{ Params: { flow: string } }>, reply: FastifyReply, kind: PasskeyFlowKind, sessionId: string | null): Promise<FastifyReply> {
    const response = assertionOf(request);
    if (!response) return sendJsonError(reply, 400, 'bad_request', t(localeOf(request), 'passkey.failed'));
    const result = await completeWithPasskey(deps, request, {
      kind,
      flowId: request.params.flow,
      csrfBinding: csrfBinding(request, reply),
      sessionId,
      response,
      locale: localeOf(request),
      client: clientOf(request),
    });
    return result.ok ? answerFinishedJson(request, reply, deps, result.finished) : refused(request, reply, kind, result);
  }

  app.post('/login/passkey/options', json, async (request, reply) => {
    if (await request.session()) return reply.send({ redirect: '/account' });
    const started = await startPasskeyLogin(deps, csrfBinding(request, reply));
    return reply.send({ flow: started.flowId, options: started.options });
  });

  app.post<{ Params: { flow: string } }>('/login/passkey/:flow', json, async (request, reply) => complete(request, reply, 'login', null));

  app.post<{ Params: { flow: string } }>('/step-up/:flow/passkey/options', json, async (request, reply) => {
    const session = await request.session();
    if (!session) return sendJsonError(reply, 401, 'session', t(localeOf(request), 'passkey.expired'));
    const started = await startPasskeyStepUp(deps, { flowId: request.params.flow, csrfBinding: csrfBinding(request, reply), sessionId: session.id });
    if (!started.ok) return refused(request, reply, 'step-up', { ok: false, reason: 'flow', problem: started.problem });
    return reply.send({ options: started.options });
  });

  app.post<{ Params: { flow: string } }>('/step-up/:flow/passkey', json, async (request, reply) => {
    const session = await request.session();
    if (!session) return sendJsonError(reply, 401, 'session', t(localeOf(request), 'passkey.expired'));
    return complete(request, reply, 'step-up', session.id);
  });
}
