import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthDeps } from '../../auth-deps.ts';
import { rememberBrowser } from '../../known-browsers.ts';
import { setSessionCookie } from '../../session-plugin.ts';
import type { Finished } from '../finish.ts';
import { takeOidcReturn } from '../../../oidc/return-to.ts';

/**
 * The JSON side of the passkey ceremonies: our script posts the browser's credential, we
 * answer where to go next. Shapes are checked here only as far as routing needs; the library
 * checks every field it verifies.
 */
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function credentialOf(request: FastifyRequest): Record<string, unknown> | null {
  const body = request.body;
  if (!isObject(body) || body.method !== 'passkey') return null;
  const c = body.credential;
  if (!isObject(c) || c.type !== 'public-key' || typeof c.id !== 'string' || typeof c.rawId !== 'string' || !isObject(c.response)) return null;
  if (typeof c.response.clientDataJSON !== 'string') return null;
  return c;
}

export function assertionOf(request: FastifyRequest): AuthenticationResponseJSON | null {
  const c = credentialOf(request);
  if (!c || !isObject(c.response) || typeof c.response.authenticatorData !== 'string' || typeof c.response.signature !== 'string') return null;
  return c as unknown as AuthenticationResponseJSON;
}

export function attestationOf(request: FastifyRequest): RegistrationResponseJSON | null {
  const c = credentialOf(request);
  if (!c || !isObject(c.response) || typeof c.response.attestationObject !== 'string') return null;
  return c as unknown as RegistrationResponseJSON;
}

/** A string field of the JSON body ('' when missing). */
export function jsonField(request: FastifyRequest, name: string, max: number): string {
  const body = request.body;
  if (!isObject(body)) return '';
  const v = body[name];
  return typeof v === 'string' ? v.slice(0, max) : '';
}

/** An error the script shows as it is (already in the citizen's language), with a code for tests and logs. */
export const sendJsonError = (reply: FastifyReply, status: number, error: string, message: string): FastifyReply =>
  reply.code(status).type('application/json; charset=utf-8').send({ error, message });

/**
 * answerFinished (finish.ts) for a script: the same cookies for a login, then where to go.
 * A step-up that kept a form gives it back for the script to post (with a fresh CSRF token
 * from the page), so that nothing typed before the step-up is lost.
 */
export function answerFinishedJson(request: FastifyRequest, reply: FastifyReply, deps: AuthDeps, finished: Finished): FastifyReply {
  reply.type('application/json; charset=utf-8');
  if (finished.kind === 'login') {
    rememberBrowser(request, reply, deps.ring.macKey, finished.accountId);
    setSessionCookie(reply, finished.token, deps.policy);
    // Back to the service's sign-in when that is what sent the citizen to /login (as answerFinished).
    return reply.send({ redirect: takeOidcReturn(request, reply) ?? '/account' });
  }
  // A step-up gave the session a new token (a cookie copied before does not gain the level).
  if (finished.kind === 'step-up') setSessionCookie(reply, finished.token, deps.policy);
  if (finished.keptForm) return reply.send({ form: { action: finished.returnTo, fields: finished.keptForm } });
  return reply.send({ redirect: finished.returnTo });
}
