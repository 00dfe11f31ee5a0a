import type { FastifyReply, FastifyRequest } from 'fastify';
import { accountCipher } from '../../accounts/account-keys.ts';
import { audit } from '../../audit/log.ts';
import type { Tx } from '../../db/contexts.ts';
import { queueMail } from '../../mail/outbox.ts';
import type { ClientInfo } from '../../web/client.ts';
import { foundPlace } from '../../web/place.ts';
import type { Locale } from '../../web/i18n.ts';
import type { AuthDeps } from '../auth-deps.ts';
import { useAuthenticator } from '../authenticators.ts';
import { isKnownBrowser, rememberBrowser } from '../known-browsers.ts';
import { levelOf, meetsLevel } from '../levels.ts';
import type { MethodId } from '../methods/method.ts';
import { SESSION_COOKIE, setSessionCookie } from '../session-plugin.ts';
import { endSessionOfToken, raiseSession, recordEmailCode, startSession } from '../sessions.ts';
import { advanceFlow, endFlow, keptFormOf, withMethod, type Flow } from './flow.ts';
import { sendKeptForm } from './kept-form.ts';
import { assertAccessOpen } from '../../incident/access.ts';
import { loginIdentifierOf } from '../../isolation/login-identifier.ts';
import { takeOidcReturn } from '../../oidc/return-to.ts';
import { backToServicePath } from '../../oidc/back-to-service.ts';

/** What a flow gave once its last method was done. */
export type Finished =
  | { kind: 'login'; accountId: string; token: string }
  | { kind: 'step-up'; accountId: string; returnTo: string; keptForm: Record<string, string> | null; token: string }
  | { kind: 'confirm'; accountId: string; returnTo: string; keptForm: Record<string, string> | null };

/**
 * Called by every method once it has verified its part, in the same transaction (the flow is
 * locked): records the method and, when the completed methods reach the level the flow asked
 * for (levels.ts, the one place that decides), finishes it. A login starts a session with a
 * fresh token; a step-up raises the flow's session and records the new auth time; a
 * confirmation records a fresh email code. Returns null while more methods are needed.
 */
export async function finishMethod(
  tx: Tx,
  deps: AuthDeps,
  request: FastifyRequest,
  flow: Flow,
  method: MethodId,
  o: { locale: Locale; client: ClientInfo; authenticatorId?: string },
): Promise<Finished | null> {
  const { clock } = deps;
  // The kill switch, in the step's own transaction: no flow finishes while access is closed.
  await assertAccessOpen(tx);
  const completed = withMethod(flow, method);
  const now = clock.now();
  const reached = levelOf(completed);
  const emailCodeAt = completed.includes('email-code') ? now : null;
  if (flow.kind === 'confirm') {
    if (method !== 'email-code' || !flow.sessionId || !flow.accountId) throw new Error('a confirmation flow is finished by an email code, in a session');
    // Read before endFlow, which clears it (pipelined statements run in order).
    const keptForm = await readKeptForm(tx, deps, flow);
    await endFlow(tx, clock, flow.id, 'done', completed);
    recordEmailCode(tx, flow.sessionId, now);
    await audit(tx, clock, { type: 'email.confirmed', accountId: flow.accountId, requestId: request.id, payload: { flowId: flow.id, sessionId: flow.sessionId } });
    return { kind: 'confirm', accountId: flow.accountId, returnTo: flow.returnTo ?? '/account', keptForm };
  }
  if (!reached || !meetsLevel(reached.level, flow.requestedLevel)) {
    await advanceFlow(tx, flow, 'second-factor', method);
    return null;
  }
  const accountId = flow.accountId;
  if (!accountId) throw new Error('a flow reached a level without an account');
  // The cooling-off of the authenticator used (this method's, or an earlier one of the flow).
  const authenticatorId = o.authenticatorId ?? flow.authenticatorId;
  const used = authenticatorId ? await useAuthenticator(tx, clock, authenticatorId) : null;
  // Removed while the method was under way (an approval held, then the device removed): no
  // level from it. Never read as "no cooling-off"; the transaction rolls back.
  if (authenticatorId && !used) throw new Error('the authenticator that completed this flow was removed meanwhile');
  const sensitiveFrom = used && used.sensitiveFrom.getTime() > now.getTime() ? used.sensitiveFrom : null;
  const keptForm = flow.kind === 'step-up' ? await readKeptForm(tx, deps, flow) : null;
  await endFlow(tx, clock, flow.id, 'done', completed);

  if (flow.kind === 'step-up') {
    if (!flow.sessionId) throw new Error('a step-up flow without its session');
    const token = await raiseSession(tx, flow.sessionId, { level: reached.level, amr: reached.amr, authTime: now, sensitiveFrom, raisedBy: authenticatorId ?? null });
    // Ended while the step-up ran (logout elsewhere, password changed): nothing to raise.
    if (!token) throw new Error('the session of this step-up has ended');
    await audit(tx, clock, { type: 'step-up.completed', accountId, requestId: request.id, payload: { flowId: flow.id, sessionId: flow.sessionId, level: reached.level, amr: reached.amr } });
    return { kind: 'step-up', accountId, returnTo: flow.returnTo ?? '/account', keptForm, token };
  }

  const loginNirIndex = await loginIdentifierOf(tx, flow.id, accountId);
  if (!loginNirIndex) throw new Error('a login flow without a login identifier');
  const { token, session } = await startSession(tx, deps, {
    accountId,
    loginNirIndex,
    level: reached.level,
    amr: reached.amr,
    authTime: now,
    sensitiveFrom,
    emailCodeAt,
    raisedBy: authenticatorId ?? null,
    client: { ip: o.client.ip, userAgent: o.client.userAgent },
    requestId: request.id,
  });
  // A login in a browser that still had a session (a service asked for a fresh
  // authentication): the new session replaces the old one, whoever's it was.
  const previous = request.cookies[SESSION_COOKIE];
  if (previous) await endSessionOfToken(tx, clock, previous, 'logout', request.id);
  if (!isKnownBrowser(request, deps.ring.macKey, accountId)) {
    await queueMail(tx, deps, {
      accountId,
      template: 'new-browser-login',
      locale: o.locale,
      params: { at: now.toISOString(), browser: o.client.browser, os: o.client.os, place: foundPlace(deps.places.find(o.client.ip), o.locale) },
    });
    await audit(tx, clock, { type: 'login.new-browser', accountId, requestId: request.id, payload: { sessionId: session.id } });
  }
  return { kind: 'login', accountId, token };
}

async function readKeptForm(tx: Tx, deps: AuthDeps, flow: Flow): Promise<Record<string, string> | null> {
  if (!flow.accountId) return null;
  const [blob, cipher] = await Promise.all([keptFormOf(tx, flow.id), accountCipher(tx, deps.ring, flow.accountId)]);
  if (!blob || !cipher) return null;
  return cipher.decryptJson(keptFormField(flow.id), blob) as Record<string, string>;
}

export const keptFormField = (flowId: string): string => `kept-form:${flowId}`;

/**
 * The answer once a flow is finished and committed: a login sets the session cookie (and marks
 * the browser as known); a step-up or a confirmation goes back where it was asked, giving back
 * the form that was posted then.
 */
export function answerFinished(request: FastifyRequest, reply: FastifyReply, deps: AuthDeps, finished: Finished): FastifyReply {
  if (finished.kind === 'login') {
    rememberBrowser(request, reply, deps.ring.macKey, finished.accountId);
    setSessionCookie(reply, finished.token, deps.policy);
    // Back to the service's sign-in (the provider's interaction) when that is what sent the
    // citizen here, through the page that leaves the form post behind (back-to-service.ts:
    // Chromium checks form-action on every redirect after a post, up to the service).
    const back = takeOidcReturn(request, reply);
    return reply.redirect(back ? (backToServicePath(back) ?? back) : '/account', 303);
  }
  if (finished.kind === 'step-up') setSessionCookie(reply, finished.token, deps.policy);
  if (finished.keptForm) return sendKeptForm(request, reply, finished.returnTo, finished.keptForm);
  return reply.redirect(backToServicePath(finished.returnTo) ?? finished.returnTo, 303);
}
