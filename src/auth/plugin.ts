import type { FastifyInstance } from 'fastify';
import type { AuthDeps } from './auth-deps.ts';
import { activationRoutes } from './flows/activation/routes.ts';
import { loginRoutes } from './flows/login/routes.ts';
import { recoveryRoutes } from './flows/recovery/routes.ts';
import { sessionFlowRoutes } from './flows/step-up/routes.ts';
import { deviceRoutes } from './flows/device/routes.ts';
import { passkeyFlowRoutes } from './flows/passkey/routes.ts';
import { totpFlowRoutes } from './flows/totp/routes.ts';

/** The authentication area: every flow a citizen goes through to get a session, or a stronger one. */
export async function authArea(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  await app.register(loginRoutes, deps);
  await app.register(activationRoutes, deps);
  await app.register(recoveryRoutes, deps);
  await app.register(sessionFlowRoutes, deps);
  // Each strong method's own routes (login step, step-up step, ceremonies):
  await app.register(passkeyFlowRoutes, deps);
  await app.register(totpFlowRoutes, deps);
  await app.register(deviceRoutes, deps);
}
