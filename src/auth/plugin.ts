import type { FastifyInstance } from 'fastify';
import type { AuthDeps } from './auth-deps.ts';
import { loginRoutes } from './flows/login/routes.ts';

/** The authentication area: every flow a citizen goes through before having a session. */
export async function authArea(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  await app.register(loginRoutes, deps);
}
