import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readKeyRing, type KeyRing } from '../../src/crypto/keyring.ts';
import { openDatabase, pgliteDir, type OpenDatabase } from '../../src/db/open.ts';
import { system, type Tx } from '../../src/db/contexts.ts';
import { createPostgresDatabase, type Backend } from '../support/databases.ts';
import { sesame, type CliResult } from '../support/cli.ts';

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
  const dir = await mkdtemp(path.join(tmpdir(), 'sesame-import-'));
  const env: NodeJS.ProcessEnv = { SESAME_DATA_DIR: dir, LOG_LEVEL: 'silent' };
  let drop = async (): Promise<void> => undefined;
  if (backend.name === 'postgres') {
    const created = await createPostgresDatabase();
    env.DATABASE_URL = created.url;
    drop = created.drop;
  }
  const migrated = await sesame(['migrate'], env);
  assert.equal(migrated.code, 0, migrated.stderr);
  const withDb = async <T>(fn: (db: OpenDatabase) => Promise<T>): Promise<T> => {
    const db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: pgliteDir(dir), poolSize: 2 });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  };
  const ring = (): Promise<KeyRing> => readKeyRing(path.join(dir, 'keys.json'));
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
      return withDb((db) => system(db, 'test', (tx) => fn(tx, r)));
    },
    owner: (sql, params) => withDb((db) => db.runAsOwner(async (q) => (await q.query(sql, params)).rows)) as never,
    async close() {
      await drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Row counts of the tables an import writes, to show that a re-run wrote nothing. */
export async function tableCounts(e: ImportEnv): Promise<Record<string, number>> {
  const tables = ['accounts', 'account_keys', 'file_events', 'file_bank_details', 'file_payments'];
  const rows = await e.owner<{ t: string; n: string }>(tables.map((t) => `SELECT '${t}' AS t, count(*)::text AS n FROM ${t}`).join(' UNION ALL '));
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
}
