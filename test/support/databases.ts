import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { requirement } from './requirements.ts';

/**
 * The backends every integration test runs on: PGlite always, PostgreSQL when
 * DATABASE_URL is set. Each test database is fresh: PGlite in memory, or a new
 * database created on the server next to the one DATABASE_URL names, dropped after.
 */
export interface Backend {
  name: 'pglite' | 'postgres';
  skip: string | false;
  open(): Promise<TestDatabase>;
}

export interface TestDatabase {
  db: OpenDatabase;
  /** Connection string of the fresh PostgreSQL database (undefined for PGlite). */
  url: string | undefined;
  /** Superuser access to this database, to play the attacker or the tamperer. */
  superuser(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  close(): Promise<void>;
}

async function openPgliteTest(): Promise<TestDatabase> {
  const db = await openDatabase({ migrate: true });
  return {
    db,
    url: undefined,
    superuser: async (sql, params) => db.runAsOwner(async (q) => {
      const r = await q.query(sql, params);
      return { rows: r.rows, rowCount: r.rowCount } as unknown as pg.QueryResult;
    }),
    close: () => db.close(),
  };
}

export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set');
  const name = `sesame_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function openPostgresTest(): Promise<TestDatabase> {
  const created = await createPostgresDatabase();
  const db = await openDatabase({ databaseUrl: created.url, migrate: true, poolSize: 4 });
  const su = new pg.Pool({ connectionString: created.url, max: 1 });
  su.on('error', () => undefined);
  return {
    db,
    url: created.url,
    superuser: (sql, params) => su.query(sql, params),
    async close() {
      await db.close();
      await su.end();
      await created.drop();
    },
  };
}

export function backends(): Backend[] {
  return [
    { name: 'pglite', skip: false, open: openPgliteTest },
    { name: 'postgres', skip: requirement('postgres').skip, open: openPostgresTest },
  ];
}
