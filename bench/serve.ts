/**
 * A server for the HTTP scenarios, in its own process so that the load generator does not
 * share its event loop: `sesame` builds the real app on an in-memory PGlite; `bare` is a
 * bare Fastify answering a page of the same size, the baseline the app is compared with.
 */
import Fastify from 'fastify';
import { buildApp } from '../src/app.ts';
import { ManualClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { KeyRing } from '../src/crypto/keyring.ts';
import { openDatabase } from '../src/db/open.ts';
import { createLogger } from '../src/logger.ts';

const kind = process.argv[2];
let app;
if (kind === 'sesame') {
  const db = await openDatabase({ migrate: true });
  app = await buildApp({ config: loadConfig({ LOG_LEVEL: 'silent' }), db, ring: KeyRing.generate('kek-bench'), clock: new ManualClock(), logger: createLogger('silent') });
} else {
  const size = Number(process.argv[3] ?? 10_000);
  const body = `<!doctype html><html lang="fr"><body>${'x'.repeat(size)}</body></html>`;
  app = Fastify();
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(body));
}
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
