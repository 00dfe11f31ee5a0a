import { createHash } from 'node:crypto';
import pg from 'pg';
import { LOCKED_ROLE, type Database, type OwnerAccess, type Queryable, type Row, type QueryResult, type TrustedSql } from './database.ts';

// Named statements are parsed and planned once per connection instead of at every call (a
// login runs ~60). Plans stay correct under row-level security: PostgreSQL re-plans a cached
// statement when the role it runs as changes.
const names = new Map<string, string>();
function statementName(sql: string): string {
  let name = names.get(sql);
  if (!name) {
    name = `s${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    if (names.size < 2000) names.set(sql, name);
  }
  return name;
}

function wrap(client: pg.ClientBase): Queryable {
  return {
    async query<R extends Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const res = await client.query<R>({ name: statementName(sql), text: sql, values: params as unknown[] });
      return { rows: res.rows, rowCount: res.rowCount ?? 0 };
    },
  };
}

/** PostgreSQL server through a pool; every pooled connection starts on the locked role. */
export function openPostgres(url: string, options: { max?: number } = {}): Database & OwnerAccess {
  // The role is a startup option, so a connection is locked before its first query; before
  // the first migration the role does not exist and connecting fails: closed, not open.
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, options: `-c role=${LOCKED_ROLE}` });
  // An idle pooled connection the server closes (restart, failover, a forced drop) must not
  // crash the process: the pool discards it and the next checkout opens a fresh one.
  pool.on('error', () => undefined);
  const transaction = async <T>(fn: (tx: Queryable) => Promise<T>, setup?: TrustedSql): Promise<T> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      // One round trip for BEGIN and the context's settings: a login runs a dozen transactions.
      await client.query(setup ? `BEGIN; ${setup.trusted}` : 'BEGIN');
      const result = await fn(wrap(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      // A connection whose ROLLBACK fails is in an unknown state: destroy it, never reuse it.
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.release(broken);
    }
  };
  return {
    kind: 'postgres',
    transaction,
    async query(sql, params) {
      return transaction((tx) => tx.query(sql, params));
    },
    async runAsOwner(fn) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await fn({ ...wrap(client), exec: async (sql) => void (await client.query(sql)) });
      } finally {
        await client.end();
      }
    },
    close: () => pool.end(),
  };
}
