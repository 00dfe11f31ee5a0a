import path from 'node:path';
import type { Database, OwnerAccess } from './database.ts';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

export interface OpenOptions {
  /** PostgreSQL URL; absent = PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; absent with no URL = in memory (tests). */
  dataDir?: string | undefined;
  /** Apply pending migrations before handing the database out. */
  migrate?: boolean;
  poolSize?: number;
}

export type OpenDatabase = Database & OwnerAccess;

export async function openDatabase(options: OpenOptions): Promise<OpenDatabase> {
  const db = options.databaseUrl
    ? openPostgres(options.databaseUrl, { max: options.poolSize ?? 10 })
    : await openPglite(options.dataDir);
  if (options.migrate) {
    try {
      await migrate(db);
    } catch (err) {
      // Closed before the error goes up: the pool's connections, and PGlite's lock on its directory.
      await db.close().catch(() => undefined);
      throw err;
    }
  }
  return db;
}

/** Where PGlite keeps its files inside the data directory. */
export const pgliteDir = (dataDir: string): string => path.join(dataDir, 'pglite');
