/**
 * A server for the HTTP scenarios, in its own process so that the load generator does not
 * share its event loop:
 * - `sesame`: the real app on an in-memory PGlite;
 * - `login <count> [databaseUrl]`: the real app with `count` accounts and the bench-only
 *   code route, on an in-memory PGlite or on the given PostgreSQL database;
 * - `bare <size>`: a bare Fastify answering a page of that size, the baseline for `sesame`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AppDeps } from '../src/app-deps.ts';
import { buildApp } from '../src/app.ts';
import { ManualClock, systemClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { KeyRing } from '../src/crypto/keyring.ts';
import { openDatabase } from '../src/db/open.ts';
import { createLogger } from '../src/logger.ts';
import { benchCodeRoute, createBenchAccounts } from './login-server.ts';

/** BENCH_PROFILE=1: main-thread CPU per route (meaningful with one request at a time), at /__bench/cpu. */
function profileRoutes(server: FastifyInstance): void {
  const started = new WeakMap<object, NodeJS.CpuUsage>();
  const totals = new Map<string, { n: number; us: number }>();
  server.addHook('onRequest', async (request) => void started.set(request, process.cpuUsage()));
  server.addHook('onResponse', async (request) => {
    const used = process.cpuUsage(started.get(request));
    const key = `${request.method} ${request.routeOptions.url ?? '?'}`;
    const t = totals.get(key) ?? { n: 0, us: 0 };
    totals.set(key, { n: t.n + 1, us: t.us + used.user + used.system });
  });
  server.get('/__bench/cpu', { config: { json: true } }, async () => Object.fromEntries([...totals].map(([k, v]) => [k, `${(v.us / v.n / 1000).toFixed(2)} ms`])));
}

const [kind, arg = '', databaseUrl] = process.argv.slice(2);
let app: FastifyInstance;
if (kind === 'sesame' || kind === 'login') {
  const db = await openDatabase({ databaseUrl, migrate: true });
  const deps: AppDeps = {
    // SESAME_ARGON2_* pass through: a cheap hash leaves the rest of a login to profile.
    config: loadConfig({ LOG_LEVEL: 'silent', ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('SESAME_ARGON2_'))) }),
    db,
    ring: KeyRing.generate('kek-bench'),
    clock: kind === 'login' ? systemClock : new ManualClock(),
    logger: createLogger('silent'),
  };
  app = await buildApp(deps);
  if (kind === 'login') {
    await createBenchAccounts(deps, Number(arg));
    benchCodeRoute(app, deps);
  }
  if (process.env.BENCH_PROFILE) profileRoutes(app);
} else {
  const body = `<!doctype html><html lang="fr"><body>${'x'.repeat(Number(arg || 10_000))}</body></html>`;
  app = Fastify();
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(body));
}
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
