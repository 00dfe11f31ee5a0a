import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { LOCKED_ROLE, type Database, type OwnerAccess, type Queryable, type Row, type QueryResult } from './database.ts';

function wrap(q: Pick<PGlite, 'query'>): Queryable {
  return {
    async query<R extends Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const res = await q.query<R>(sql, params as unknown[]);
      return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
    },
  };
}

/** Embedded PostgreSQL (WASM). One connection: PGlite serialises transactions itself. */
export async function openPglite(dataDir: string | undefined): Promise<Database & OwnerAccess> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const pg = await PGlite.create(dataDir ?? 'memory://');
  let locked = false;
  const lock = async (): Promise<void> => {
    const exists = await pg.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [LOCKED_ROLE]);
    if (exists.rows.length > 0) {
      await pg.exec(`SET ROLE ${LOCKED_ROLE}`);
      locked = true;
    }
  };
  await lock();
  return {
    kind: 'pglite',
    transaction: (fn) => {
      if (!locked) throw new Error('database is not migrated: run `sesame migrate`');
      return pg.transaction((tx) => fn(wrap(tx)));
    },
    query: (sql, params) => {
      if (!locked) throw new Error('database is not migrated: run `sesame migrate`');
      return wrap(pg).query(sql, params);
    },
    async runAsOwner(fn) {
      // Same single connection: step out of the locked role for the duration, then back.
      await pg.exec('RESET ROLE');
      try {
        return await fn({ ...wrap(pg), exec: async (sql) => void (await pg.exec(sql)) });
      } finally {
        await lock();
        if (!locked) throw new Error('database roles are missing after migration');
      }
    },
    close: () => pg.close(),
  };
}
