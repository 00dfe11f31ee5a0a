import type { FastifyReply, FastifyRequest } from 'fastify';
import { audit } from '../../../audit/log.ts';
import { system } from '../../../db/contexts.ts';
import { queueMail } from '../../../mail/outbox.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { isKnownBrowser, rememberBrowser } from '../../known-browsers.ts';
import { levelOf } from '../../levels.ts';
import { verifyCode, type VerifyRefusal } from '../../methods/email-code.ts';
import { startSession } from '../../sessions.ts';
import { endFlow, loadFlow, withMethod, type FlowProblem } from '../flow.ts';

export type CompleteResult =
  | { ok: true; token: string; accountId: string }
  | { ok: false; problem: FlowProblem }
  | { ok: false; refusal: VerifyRefusal; remaining: number };

/**
 * Second step: the code. On success the flow ends and a session starts with a fresh token
 * (never one the browser brought: no fixation); a browser that never logged in to this
 * account gets it marked and the citizen gets a notification.
 */
export async function completeLogin(
  deps: AuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  input: { flowId: string; csrfBinding: string; code: string; locale: Locale; client: ClientInfo },
): Promise<CompleteResult> {
  const { clock, ring } = deps;
  return system(deps.db, 'login', async (tx): Promise<CompleteResult> => {
    const loaded = await loadFlow(tx, clock, input.flowId, { kind: 'login', csrfBinding: input.csrfBinding });
    if (!loaded.ok) return loaded;
    const checked = await verifyCode(tx, deps, loaded.flow, input.code, request.id);
    if (!checked.ok) return { ok: false, refusal: checked.reason, remaining: checked.remaining };
    const completed = withMethod(loaded.flow, 'email-code');
    const level = levelOf(completed);
    const accountId = loaded.flow.accountId;
    // A code only verifies for a flow with an account; both hold by construction.
    if (!level || !accountId) throw new Error('login flow completed without a level or an account');
    await endFlow(tx, clock, loaded.flow.id, 'done', completed);
    const now = clock.now();
    const { token, session } = await startSession(tx, deps, {
      accountId,
      level: level.level,
      amr: level.amr,
      authTime: now,
      client: { ip: input.client.ip, userAgent: input.client.userAgent },
      requestId: request.id,
    });
    if (!isKnownBrowser(request, ring.macKey, accountId)) {
      await queueMail(tx, deps, {
        accountId,
        template: 'new-browser-login',
        locale: input.locale,
        params: { at: now.toISOString(), browser: input.client.browser, os: input.client.os, place: null },
      });
      await audit(tx, clock, { type: 'login.new-browser', accountId, requestId: request.id, payload: { sessionId: session.id } });
    }
    return { ok: true, token, accountId };
  }).then((result) => {
    // Only once the session is committed does this browser count as known.
    if (result.ok) rememberBrowser(request, reply, ring.macKey, result.accountId);
    return result;
  });
}
