import type { FastifyInstance } from 'fastify';
import { requireSession } from '../auth/session-plugin.ts';
import type { AccountDeps } from './account-deps.ts';
import { homeRoutes } from './home.ts';
import { securityRoutes } from './security/routes.ts';
import { deviceEnrolmentRoutes } from './security/devices.ts';
import { passkeyEnrolmentRoutes } from './security/passkeys.ts';
import { totpEnrolmentRoutes } from './security/totp.ts';

/** "My Account": every route needs a live session and reads through the citizen context only. */
export async function accountArea(app: FastifyInstance, deps: AccountDeps): Promise<void> {
  // Added before the child plugins so that each of them inherits it.
  app.addHook('preHandler', requireSession);
  await app.register(homeRoutes, deps);
  await app.register(securityRoutes, deps);
  // Each strong method's enrolment pages, under /account/security:
  await app.register(passkeyEnrolmentRoutes, deps);
  await app.register(totpEnrolmentRoutes, deps);
  await app.register(deviceEnrolmentRoutes, deps);
}
