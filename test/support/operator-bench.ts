import { ManualClock } from '../../src/clock.ts';
import type { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { saveCohort, type CohortCategory } from '../../src/incident/cohort-store.ts';
import { resolveIncident } from '../../src/incident/incidents.ts';
import { testApp, type TestApp, type TestAppOptions } from './app.ts';
import type { Backend } from './databases.ts';
import { sesame, type CliResult } from './cli.ts';
import { cliWorkspace } from './cli-workspace.ts';
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
  // The app and the command share the keys as they share the database.
  const ws = await cliWorkspace(backend, { prefix: `sesame-${label}-`, user: 'oncall.martin' });
  const { dir, env, ring } = ws;
  return {
    env,
    ring,
    clock,
    dir,
    async withApp(fn, options = {}) {
      const db = await ws.open();
      const t = await testApp({ ...options, db, ring, clock });
      try {
        return await fn(t);
      } finally {
        await t.close();
        await db.close();
      }
    },
    cli: (args) => sesame(args, env),
    close: () => ws.close(),
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
