import type { FastifyReply, FastifyRequest } from 'fastify';
import { accountCipher } from '../accounts/account-keys.ts';
import { audit } from '../audit/log.ts';
import { citizen, system } from '../db/contexts.ts';
import { strongMethodsOf } from './authenticators.ts';
import { csrfBinding } from '../web/csrf.ts';
import type { AuthDeps } from './auth-deps.ts';
import { keptFormField } from './flows/finish.ts';
import { createFlow } from './flows/flow.ts';
import { formToKeep } from './flows/kept-form.ts';
import { meetsLevel } from './levels.ts';
import type { AuthPolicy } from './policy.ts';
import type { Session } from './sessions.ts';

export type SensitiveVerdict = { ok: true } | { ok: false; reason: 'level' | 'stale' | 'cooling-off'; from?: Date };

/**
 * Sensitive operations (bank details, email address, adding or removing an authenticator or a
 * device) need eidas2, obtained within the last minutes, with an authenticator past its
 * cooling-off. Email codes never count: a login by password + email code is eidas1.
 */
export function sensitiveAllowed(session: Session, policy: AuthPolicy, now: Date): SensitiveVerdict {
  if (!meetsLevel(session.level, 'eidas2')) return { ok: false, reason: 'level' };
  if (session.authTime.getTime() + policy.stepUpMaxAge * 1000 < now.getTime()) return { ok: false, reason: 'stale' };
  if (session.sensitiveFrom && session.sensitiveFrom.getTime() > now.getTime()) return { ok: false, reason: 'cooling-off', from: session.sensitiveFrom };
  return { ok: true };
}

/** Whether an email code confirmed the citizen recently enough (change of password, first enrolment). */
export const freshEmailCode = (session: Session, policy: AuthPolicy, now: Date): boolean =>
  session.emailCodeAt !== null && session.emailCodeAt.getTime() + policy.stepUpMaxAge * 1000 >= now.getTime();

/**
 * Starts a flow that brings the citizen back to `returnTo` once done: a step-up (kind
 * `step-up`, eidas2) or a fresh email code (`confirm`). A posted form is kept, encrypted under
 * the account's key, and given back afterwards.
 */
export async function startSessionFlow(
  deps: AuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session,
  o: { kind: 'step-up' | 'confirm'; returnTo: string; reason?: 'level' | 'stale' | 'cooling-off'; keep?: boolean },
): Promise<string> {
  const kept = request.method === 'POST' && o.keep !== false ? formToKeep(request) : null;
  return system(deps.db, o.kind, async (tx) => {
    const cipher = kept ? await accountCipher(tx, deps.ring, session.accountId) : null;
    const flow = await createFlow(tx, deps.clock, {
      kind: o.kind,
      state: o.kind === 'step-up' ? 'first-factor' : 'code',
      accountId: session.accountId,
      csrfBinding: csrfBinding(request, reply),
      ttlSeconds: deps.policy.flowTtl,
      requestedLevel: o.kind === 'step-up' ? 'eidas2' : 'eidas1',
      sessionId: session.id,
      returnTo: o.returnTo,
      keptForm: kept && cipher ? (flowId) => cipher.encryptJson(keptFormField(flowId), kept) : undefined,
    });
    if (o.kind === 'step-up') {
      await audit(tx, deps.clock, { type: 'step-up.required', accountId: session.accountId, requestId: request.id, payload: { sessionId: session.id, reason: o.reason ?? 'level' } });
    }
    return flow.id;
  });
}

/**
 * For a sensitive route: lets the request through, or sends the citizen through a step-up
 * that brings them (and their form) back here. Returns false when it answered.
 */
export async function ensureSensitive(deps: AuthDeps, request: FastifyRequest, reply: FastifyReply, session: Session, returnTo: string): Promise<boolean> {
  const verdict = sensitiveAllowed(session, deps.policy, deps.clock.now());
  if (verdict.ok) return true;
  const flowId = await startSessionFlow(deps, request, reply, session, { kind: 'step-up', returnTo, reason: verdict.reason });
  await reply.redirect(`/step-up/${flowId}`, 303);
  return false;
}

/** For an operation that needs a fresh email code (change of password, first enrolment): same shape. */
export async function ensureFreshEmailCode(
  deps: AuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session,
  returnTo: string,
  o: { keep?: boolean } = {},
): Promise<boolean> {
  if (freshEmailCode(session, deps.policy, deps.clock.now())) return true;
  const flowId = await startSessionFlow(deps, request, reply, session, { kind: 'confirm', returnTo, keep: o.keep });
  await reply.redirect(`/confirm/${flowId}`, 303);
  return false;
}

export type EnrolmentGate = { allowed: true; fromStrongSession: boolean } | { allowed: false; need: 'step-up' | 'email-code' };

/**
 * Adding an authenticator: with a usable strong method already on the account, a sensitive
 * operation (eidas2 now); without one, a fresh email code, and what is added cools off (unless
 * the session was eidas2). Only a strong method past its cooling-off counts: one someone may
 * just have planted with a phished password and code must not stand in the owner's way.
 */
export async function enrolmentGate(deps: AuthDeps, session: Session): Promise<EnrolmentGate> {
  const now = deps.clock.now();
  if (sensitiveAllowed(session, deps.policy, now).ok) return { allowed: true, fromStrongSession: true };
  const { usable } = await citizen(deps.db, session.accountId, (tx) => strongMethodsOf(tx, session.accountId, now));
  if (usable.size > 0) return { allowed: false, need: 'step-up' };
  return freshEmailCode(session, deps.policy, now) ? { allowed: true, fromStrongSession: false } : { allowed: false, need: 'email-code' };
}

/** enrolmentGate for a page: lets it through, or sends the citizen through the step-up or the code, back to `returnTo`. */
export async function ensureEnrolmentAllowed(
  deps: AuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session,
  returnTo: string,
): Promise<{ allowed: false } | { allowed: true; fromStrongSession: boolean }> {
  const gate = await enrolmentGate(deps, session);
  if (gate.allowed) return gate;
  if (gate.need === 'step-up') await ensureSensitive(deps, request, reply, session, returnTo);
  else await ensureFreshEmailCode(deps, request, reply, session, returnTo);
  return { allowed: false };
}
