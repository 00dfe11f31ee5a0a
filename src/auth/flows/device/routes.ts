import type { FastifyInstance } from 'fastify';
import type { AuthDeps } from '../../auth-deps.ts';
import { devicePhoneRoutes } from './phone-routes.ts';
import { deviceStepRoutes } from './step-routes.ts';

/** Device approval: the phone's page and endpoints, and the second step of a login or a step-up. */
export async function deviceRoutes(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  await devicePhoneRoutes(app, deps);
  await deviceStepRoutes(app, deps, '/login');
  await deviceStepRoutes(app, deps, '/step-up');
}
