import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { clearSessionCookie } from '../auth/session-plugin.ts';
import { NoSessionError } from './errors.ts';

/**
 * For areas whose pages use citizenRequest: a session gone meanwhile sends the browser to
 * /login (as requireSession does); every other error, isolation violations included, goes on
 * to the root error pages (500 with the incident reference).
 */
export async function citizenErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (error instanceof NoSessionError) {
    clearSessionCookie(reply);
    return reply.redirect('/login', 303);
  }
  throw error;
}
