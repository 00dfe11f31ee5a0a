import type { FastifyReply, FastifyRequest } from 'fastify';
import { formToKeep } from '../auth/flows/kept-form.ts';
import { system } from '../db/contexts.ts';
import { CONSOLE_PREFIX } from '../incident/access-scope.ts';
import { createCeremony } from '../staff/ceremonies.ts';
import { freshStepUp, type StaffSession } from '../staff/sessions.ts';
import { csrfBinding } from '../web/csrf.ts';
import type { ConsoleDeps } from './deps.ts';

/**
 * Every console action needs a passkey assertion of the last 5 minutes. Otherwise the posted
 * form is kept server-side in a step-up ceremony bound to this session and this browser, the
 * browser goes to the step-up page, and passkey.js posts the form again (with a fresh CSRF
 * token) once the passkey answered: the action itself runs only on that second post, after
 * its checks run again.
 */
export async function stepUpOr(
  deps: ConsoleDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  session: StaffSession,
  action: () => Promise<FastifyReply>,
): Promise<FastifyReply> {
  if (freshStepUp(session, deps.clock.now())) return action();
  const returnTo = request.url.split('?', 1)[0] ?? CONSOLE_PREFIX;
  const id = await system(deps.db, 'console:step-up', (tx) =>
    createCeremony(tx, deps.clock, { kind: 'step-up', csrfBinding: csrfBinding(request, reply), staffId: session.staffId, sessionId: session.id, returnTo, keptForm: formToKeep(request) }),
  );
  return reply.redirect(`${CONSOLE_PREFIX}/step-up/${id}`, 303);
}
