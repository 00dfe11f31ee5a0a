import type { FastifyInstance } from 'fastify';
import { consoleAuthRoutes } from './auth-routes.ts';
import type { ConsoleDeps } from './deps.ts';
import { consolePages } from './pages.ts';

/**
 * The operator console under /console (CONSOLE_PREFIX): a few pages for staff accounts with
 * passkeys. Encapsulated: its hooks (the staff session check) apply to its pages only. The
 * root hooks still apply: security headers (no-store, strict CSP), CSRF on every POST, the
 * access gate (the `staff` scope of the kill switch).
 */
export async function consoleArea(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  await app.register(consoleAuthRoutes, deps);
  await app.register(consolePages, deps);
}
