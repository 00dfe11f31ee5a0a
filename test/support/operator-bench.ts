import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing, writeKeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { openDatabase, pgliteDir, type OpenDatabase } from '../../src/db/open.ts';
import { saveCohort, type CohortCategory } from '../../src/incident/cohort-store.ts';
import { resolveIncident } from '../../src/incident/incidents.ts';
import { testApp, type TestApp, type TestAppOptions } from './app.ts';
import { createPostgresDatabase, type Backend } from './databases.ts';
import { sesame, type CliResult } from './cli.ts';
import { Browser } from './login.ts';

/**
 * The web app and `sesame incident …` on one database, taking turns (PGlite allows one
 * process at a time): the app for what citizens do, the command for what the operator does.
 */
export interface OperatorBench {
  env: NodeJS.ProcessEnv;
  ring: KeyRing;
  clock: ManualClock;
  dir: string;
  /** Runs `fn` with the web app on the shared database, then closes both. */
  withApp<T>(fn: (t: TestApp) => Promise<T>, options?: Omit<TestAppOptions, 'db' | 'ring' | 'clock'>): Promise<T>;
  cli(args: string[]): Promise<CliResult>;
  close(): Promise<void>;
}

export async function operatorBench(backend: Backend, label: string, clock = new ManualClock()): Promise<OperatorBench> {
  const dir = await mkdtemp(path.join(tmpdir(), `sesame-${label}-`));
  const env: NodeJS.ProcessEnv = { SESAME_DATA_DIR: dir, LOG_LEVEL: 'silent', USER: 'oncall.martin' };
  let drop = async (): Promise<void> => undefined;
  if (backend.name === 'postgres') {
    const created = await createPostgresDatabase();
    env.DATABASE_URL = created.url;
    drop = created.drop;
  }
  // The app and the command share the keys as they share the database.
  const ring = KeyRing.generate('kek-test');
  await writeKeyRing(path.join(dir, 'keys.json'), ring);
  const migrated = await sesame(['migrate'], env);
  assert.equal(migrated.code, 0, migrated.stderr);
  const open = (): Promise<OpenDatabase> => openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: pgliteDir(dir) });
  return {
    env,
    ring,
    clock,
    dir,
    async withApp(fn, options = {}) {
      const db = await open();
      const t = await testApp({ ...options, db, ring, clock });
      try {
        return await fn(t);
      } finally {
        await t.close();
        await db.close();
      }
    },
    cli: (args) => sesame(args, env),
    async close() {
      await drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The same browser (cookies, address) on another run of the app. */
export function rebind(b: Browser, t: TestApp): Browser {
  const again = new Browser(t);
  for (const [name, value] of Object.entries(b.jar.cookies())) again.jar.set(name, value);
  again.ip = b.ip;
  again.userAgent = b.userAgent;
  again.headers = { ...b.headers };
  return again;
}

/** Saves the open incident's cohort as `incident cohort --apply` would (members in account id order). */
export async function saveTestCohort(t: TestApp, o: { from: Date; to: Date; members: { accountId: string; categories: CohortCategory[] }[] }): Promise<string> {
  return system(t.deps.db, 'test', async (tx) => {
    const incident = await resolveIncident(tx, undefined);
    const members = [...o.members].sort((a, b) => (a.accountId < b.accountId ? -1 : 1));
    const cohort = await saveCohort(tx, t.clock, incident, { from: o.from, to: o.to, options: { from: o.from.toISOString(), to: o.to.toISOString() }, by: { kind: 'operator', name: 'test' }, members });
    return cohort.id;
  });
}
