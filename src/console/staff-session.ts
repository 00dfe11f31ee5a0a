import type { FastifyReply, FastifyRequest } from 'fastify';
import { system } from '../db/contexts.ts';
import { CONSOLE_PREFIX } from '../incident/access-scope.ts';
import { STAFF_POLICY } from '../staff/policy.ts';
import { resolveStaffSession, type StaffSession } from '../staff/sessions.ts';
import type { ConsoleDeps } from './deps.ts';

/**
 * The console's own cookie: __Host- (Secure, Path=/, no Domain), HttpOnly, SameSite=Strict (no
 * link from another site arrives logged in). Only this area reads it, and this area reads no
 * other: a citizen's session cookie opens nothing here, a staff cookie nothing in /account.
 */
export const STAFF_COOKIE = '__Host-sesame-staff';

export const LOGIN_PATH = `${CONSOLE_PREFIX}/login`;

export function setStaffCookie(reply: FastifyReply, token: string): void {
  reply.setCookie(STAFF_COOKIE, token, { path: '/', secure: true, httpOnly: true, sameSite: 'strict', maxAge: STAFF_POLICY.sessionAbsolute });
}

export function clearStaffCookie(reply: FastifyReply): void {
  reply.clearCookie(STAFF_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'strict' });
}

const looked = new WeakMap<FastifyRequest, Promise<StaffSession | null>>();

/** The live staff session of this request's cookie, looked up once per request. */
export function staffSessionOf(request: FastifyRequest, deps: ConsoleDeps): Promise<StaffSession | null> {
  let found = looked.get(request);
  if (!found) {
    const token = request.cookies[STAFF_COOKIE];
    found = token === undefined ? Promise.resolve(null) : system(deps.db, 'console:session', (tx) => resolveStaffSession(tx, deps.clock, token));
    looked.set(request, found);
  }
  return found;
}

/** The session was ended or replaced during this request. */
export const forgetStaffSession = (request: FastifyRequest): void => {
  looked.set(request, Promise.resolve(null));
};
