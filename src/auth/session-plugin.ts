import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { system } from '../db/contexts.ts';
import { hostCookie } from '../web/cookies.ts';
import type { AuthPolicy } from './policy.ts';
import { resolveSession, type Session } from './sessions.ts';
import { injectSessionFault } from '../isolation/fault-injection.ts';
import { identityViolation } from '../isolation/session-proof.ts';
import { reportViolation } from '../isolation/tripwire.ts';
import type { Fault } from '../isolation/settings.ts';

export const SESSION_COOKIE = '__Host-sesame-session';

declare module 'fastify' {
  interface FastifyRequest {
    /** The live session of this request's cookie, looked up once and only when asked. */
    session(): Promise<Session | null>;
  }
}

const resolved = new WeakMap<FastifyRequest, Promise<Session | null>>();

export function setSessionCookie(reply: FastifyReply, token: string, policy: AuthPolicy): void {
  // __Host-: Secure, Path=/, no Domain, so no subdomain can plant or read it (fixation).
  reply.setCookie(SESSION_COOKIE, token, hostCookie(policy.sessionAbsolute));
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, hostCookie());
}

/** Forget the session looked up earlier in this request (it was just ended or replaced). */
export const forgetSession = (request: FastifyRequest): void => {
  resolved.set(request, Promise.resolve(null));
};

export const sessionPlugin = fp(
  async (app: FastifyInstance, deps: { db: Database; clock: Clock; policy: AuthPolicy; fault?: Fault | null }) => {
    const fault = deps.fault ?? null;
    /**
     * The lookup proves its own answer (identity tripwire, first check): in the same
     * transaction, the NIR typed at login must still name the account it gives. Otherwise no
     * page gets a session at all: the request fails with the incident page.
     */
    async function lookUp(request: FastifyRequest, token: string): Promise<Session | null> {
      const { session, violation } = await system(deps.db, 'session', async (tx) => {
        const found = await injectSessionFault(tx, fault, await resolveSession(tx, deps, token));
        return { session: found, violation: found ? await identityViolation(tx, found) : null };
      });
      if (session && violation) throw await reportViolation(request, { reason: violation, session, dataAccountId: session.accountId });
      return session;
    }
    app.decorateRequest('session', function (this: FastifyRequest): Promise<Session | null> {
      let found = resolved.get(this);
      if (!found) {
        const token = this.cookies[SESSION_COOKIE];
        found = token === undefined ? Promise.resolve(null) : lookUp(this, token);
        resolved.set(this, found);
      }
      return found;
    });
  },
  { name: 'sesame-sessions', dependencies: ['@fastify/cookie'] },
);

/**
 * preHandler for pages behind login: without a live session the request goes no further
 * (a form posted after the session ended must not half-apply) and the browser goes to /login.
 */
export async function requireSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const session = await request.session();
  if (session) return;
  clearSessionCookie(reply);
  await reply.redirect('/login', 303);
}
