import type { FastifyInstance } from 'fastify';
import { requireSession } from '../auth/session-plugin.ts';
import { citizenErrors } from '../isolation/error-handler.ts';
import type { AccountDeps } from './account-deps.ts';
import { overviewRoutes } from './overview.ts';
import { contactRoutes } from './contact/routes.ts';
import { bankDetailsRoutes } from './bank-details/routes.ts';
import { procedureRoutes } from './procedures/routes.ts';
import { paymentRoutes } from './payments/routes.ts';
import { exportRoutes } from './export/routes.ts';
import { securityRoutes } from './security/routes.ts';
import { deviceEnrolmentRoutes } from './security/devices.ts';
import { passkeyEnrolmentRoutes } from './security/passkeys.ts';
import { totpEnrolmentRoutes } from './security/totp.ts';

/** "My Account": every route needs a live session and reads through the citizen context only. */
export async function accountArea(app: FastifyInstance, deps: AccountDeps): Promise<void> {
  // Added before the child plugins so that each of them inherits it.
  app.addHook('preHandler', requireSession);
  // citizenRequest's NoSessionError → /login; the rest (isolation violations) → the root error pages.
  app.setErrorHandler(citizenErrors);
  await app.register(overviewRoutes, deps);
  await app.register(contactRoutes, deps);
  await app.register(bankDetailsRoutes, deps);
  await app.register(procedureRoutes, deps);
  await app.register(paymentRoutes, deps);
  await app.register(exportRoutes, deps);
  await app.register(securityRoutes, deps);
  // Each strong method's enrolment pages, under /account/security:
  await app.register(passkeyEnrolmentRoutes, deps);
  await app.register(totpEnrolmentRoutes, deps);
  await app.register(deviceEnrolmentRoutes, deps);
}
