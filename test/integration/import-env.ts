import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KeyRing } from '../../src/crypto/keyring.ts';
import { system, type Tx } from '../../src/db/contexts.ts';
import type { Backend } from '../support/databases.ts';
import { sesame, type CliResult } from '../support/cli.ts';
import { cliWorkspace } from '../support/cli-workspace.ts';

/**
 * A data directory (and, on PostgreSQL, a fresh database) for the `sesame import` tests, which
 * run the real command: keys and database are what `sesame` itself opens from the environment.
 */
export interface ImportEnv {
  dir: string;
  env: NodeJS.ProcessEnv;
  run(args: string[]): Promise<CliResult>;
  /** A file in the data directory. */
  file(name: string, text: string): Promise<string>;
  ring(): Promise<KeyRing>;
  /** A system transaction on the command's database (opened and closed around fn). */
  tx<T>(fn: (tx: Tx, ring: KeyRing) => Promise<T>): Promise<T>;
  /** Owner access (to count rows under RLS, or to play a failing database). */
  owner<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function importEnv(backend: Backend): Promise<ImportEnv> {
  // No keys written: the first `sesame import` creates them.
  const ws = await cliWorkspace(backend, { prefix: 'sesame-import-', ring: false });
  const { dir, env } = ws;
  const ring = (): Promise<KeyRing> => ws.keys();
  return {
    dir,
    env,
    run: (args) => sesame(args, env),
    async file(name, text) {
      const file = path.join(dir, name);
      await writeFile(file, text);
      return file;
    },
    ring,
    async tx(fn) {
      const r = await ring();
      return ws.withDb((db) => system(db, 'test', (tx) => fn(tx, r)), { poolSize: 2 });
    },
    owner: (sql, params) => ws.withDb((db) => db.runAsOwner(async (q) => (await q.query(sql, params)).rows), { poolSize: 2 }) as never,
    close: () => ws.close(),
  };
}

/** Row counts of the tables an import writes, to show that a re-run wrote nothing. */
export async function tableCounts(e: ImportEnv): Promise<Record<string, number>> {
  const tables = ['accounts', 'account_keys', 'file_events', 'file_bank_details', 'file_payments'];
  const rows = await e.owner<{ t: string; n: string }>(tables.map((t) => `SELECT '${t}' AS t, count(*)::text AS n FROM ${t}`).join(' UNION ALL '));
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
}
