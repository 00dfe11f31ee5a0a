import type { FastifyInstance } from 'fastify';
import type { AuthDeps } from '../../auth-deps.ts';

/** /step-up/:flow and /confirm/:flow: the flows a session goes through for a sensitive operation. */
export async function sessionFlowRoutes(_app: FastifyInstance, _deps: AuthDeps): Promise<void> {}
