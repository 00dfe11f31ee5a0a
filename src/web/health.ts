import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/database.ts';

const READY_TIMEOUT_MS = 2000;

/** Liveness (the process answers) and readiness (the database answers), as JSON. */
export async function health(app: FastifyInstance, options: { db: Database }): Promise<void> {
  app.get('/healthz', { config: { json: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { json: true } }, async (request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('database check timed out')), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([options.db.query('SELECT 1'), timeout]);
      return { status: 'ok', database: 'ok' };
    } catch (err) {
      // The reason goes to the log only: a probe's answer is no place for connection details.
      request.log.warn({ err }, 'readiness check failed');
      return reply.code(503).send({ status: 'unavailable', database: 'unreachable' });
    } finally {
      clearTimeout(timer);
    }
  });
}
