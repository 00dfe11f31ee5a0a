import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KeyRing, readKeyRing, writeKeyRing } from '../../src/crypto/keyring.ts';
import { openDatabase, pgliteDir, type OpenDatabase } from '../../src/db/open.ts';
import { createPostgresDatabase, type Backend } from './databases.ts';
import { sesame } from './cli.ts';

export interface CliWorkspaceOptions {
  /** Start of the temporary data directory's name, e.g. 'sesame-staff-cli-'. */
  prefix: string;
  /** The operator the commands run as (USER); absent = not set. */
  user?: string;
  /**
   * The keys written to keys.json before `migrate`: this ring, or a fresh one when absent.
   * false: none written, the first command that needs keys creates them (read them with keys()).
   */
  ring?: KeyRing | false;
  /** More environment for the commands (SESAME_PUBLIC_URL, SESAME_DPO_…). */
  env?: NodeJS.ProcessEnv;
}

/**
 * What `sesame` opens from its environment, for the tests that run the real commands: a data
 * directory, its key file and, on PostgreSQL, a fresh database; migrated by `sesame migrate`.
 */
export interface CliWorkspace {
  dir: string;
  /** SESAME_DATA_DIR, LOG_LEVEL silent, USER, DATABASE_URL on PostgreSQL, and the extra env. */
  env: NodeJS.ProcessEnv;
  /** The keys written before `migrate` (absent with `ring: false`). */
  ring: KeyRing;
  /** The key ring in keys.json as it is now. */
  keys(): Promise<KeyRing>;
  /** The fresh database's URL on PostgreSQL; undefined on PGlite (in dir). */
  url: string | undefined;
  /** The database as the server would open it (PGlite: one process at a time, close it before a command). */
  open(options?: { poolSize?: number }): Promise<OpenDatabase>;
  /** Opens the database around fn, then closes it. */
  withDb<T>(fn: (db: OpenDatabase) => Promise<T>, options?: { poolSize?: number }): Promise<T>;
  /** Drops the database (PostgreSQL) and removes the directory. */
  close(): Promise<void>;
}

export function cliWorkspace(backend: Pick<Backend, 'name'>, o: CliWorkspaceOptions & { ring: false }): Promise<Omit<CliWorkspace, 'ring'>>;
export function cliWorkspace(backend: Pick<Backend, 'name'>, o: CliWorkspaceOptions): Promise<CliWorkspace>;
export async function cliWorkspace(backend: Pick<Backend, 'name'>, o: CliWorkspaceOptions): Promise<Omit<CliWorkspace, 'ring'> & { ring?: KeyRing }> {
  const dir = await mkdtemp(path.join(tmpdir(), o.prefix));
  const env: NodeJS.ProcessEnv = { SESAME_DATA_DIR: dir, LOG_LEVEL: 'silent', ...(o.user === undefined ? {} : { USER: o.user }), ...o.env };
  let drop = async (): Promise<void> => undefined;
  if (backend.name === 'postgres') {
    const created = await createPostgresDatabase();
    env.DATABASE_URL = created.url;
    drop = created.drop;
  }
  const keys = path.join(dir, 'keys.json');
  const ring = o.ring === false ? undefined : (o.ring ?? KeyRing.generate('kek-test'));
  if (ring) await writeKeyRing(keys, ring);
  const migrated = await sesame(['migrate'], env);
  assert.equal(migrated.code, 0, migrated.stderr);
  const url = env.DATABASE_URL;
  const open = (options: { poolSize?: number } = {}): Promise<OpenDatabase> => openDatabase({ databaseUrl: url, dataDir: pgliteDir(dir), poolSize: options.poolSize });
  return {
    dir,
    env,
    ...(ring ? { ring } : {}),
    keys: () => readKeyRing(keys),
    url,
    open,
    async withDb(fn, options) {
      const db = await open(options);
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    },
    async close() {
      await drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
