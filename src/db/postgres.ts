import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import pg from 'pg';
import { LOCKED_ROLE, type Database, type OwnerAccess, type Queryable, type Row, type QueryResult, type Transaction, type TrustedSql } from './database.ts';

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

const statement = (sql: string, params: readonly unknown[] = []): pg.QueryConfig => ({ name: statementName(sql), text: sql, values: params as unknown[] });

function wrap(client: pg.ClientBase): Queryable {
  return {
    async query<R extends Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const res = await client.query<R>(statement(sql, params));
      return { rows: res.rows, rowCount: res.rowCount ?? 0 };
    },
  };
}

/** PostgreSQL server through a pool; every pooled connection starts on the locked role. */
export function openPostgres(url: string, options: { max?: number } = {}): Database & OwnerAccess {
  // The role is a startup option, so a connection is locked before its first query; before
  // the first migration the role does not exist and connecting fails: closed, not open.
  // Pipeline mode: a statement goes out without waiting for the previous one's answer, which
  // is what lets BEGIN, sent statements and COMMIT share round trips (one costs ~100 µs of CPU).
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, options: `-c role=${LOCKED_ROLE}`, pipeline: true });
  // An idle pooled connection the server closes (restart, failover, a forced drop) must not
  // crash the process: the pool discards it and the next checkout opens a fresh one.
  pool.on('error', () => undefined);
  const transaction = async <T>(fn: (tx: Transaction) => Promise<T>, setup?: TrustedSql): Promise<T> => {
    const client = await pool.connect();
    const { stream } = (client as unknown as { connection: { stream: Writable } }).connection;
    let broken: Error | undefined;
    // Statements nobody waits for (BEGIN, send()): the first failure among them fails the transaction.
    const inFlight: Promise<void>[] = [];
    let failed: unknown;
    const track = (sent: Promise<unknown>): void => void inFlight.push(sent.then(() => undefined, (err: unknown) => void (failed ??= err)));
    // Statements issued in the same tick leave in one write: a system call costs as much as
    // the driver's whole work for a statement.
    let corked = false;
    const batch = (): void => {
      if (corked) return;
      corked = true;
      stream.cork();
      process.nextTick(() => {
        corked = false;
        stream.uncork();
      });
    };
    try {
      // Not awaited: the first statement travels right behind BEGIN and the context's settings.
      // Pipelined statements run in order, and after a failed one PostgreSQL refuses the rest
      // of the transaction, so nothing runs outside the context.
      batch();
      track(client.query(setup ? `BEGIN; ${setup.trusted}` : 'BEGIN'));
      const tx: Transaction = {
        async query<R extends Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
          let res: pg.QueryResult<R>;
          try {
            res = await client.query<R>(statement(sql, params));
          } catch (err) {
            throw failed ?? err; // the cause, not "current transaction is aborted"
          }
          if (failed !== undefined) throw failed;
          return { rows: res.rows, rowCount: res.rowCount ?? 0 };
        },
        send: (sql, params) => {
          batch();
          track(client.query(statement(sql, params)));
        },
      };
      const result = await fn(tx);
      // COMMIT shares the round trip of the statements still in flight (the audit insert).
      batch();
      const commit = client.query('COMMIT');
      await Promise.all([...inFlight, commit]);
      // After a failed statement PostgreSQL answers COMMIT with a rollback, not an error.
      if (failed !== undefined) throw failed;
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
