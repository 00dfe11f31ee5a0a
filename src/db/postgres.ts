import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import pg from 'pg';
import { CHANNEL, LOCKED_ROLE, SYSTEM_ROLE, type Database, type ListenHandlers, type OwnerAccess, type Queryable, type Row, type QueryResult, type Transaction, type TrustedSql } from './database.ts';

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

const refOf = (client: pg.ClientBase): { ref?(): void; unref?(): void } => streamOf(client) as unknown as { ref?(): void; unref?(): void };
const streamOf = (client: pg.ClientBase): Writable => (client as unknown as { connection: { stream: Writable } }).connection.stream;

/**
 * Database.oidcSystemStatements: a few long-lived pipelined connections whose role is
 * sesame_system from their startup packet on (so no statement on them ever runs as anything
 * broader, and none as the login role), each statement alone in autocommit (its own Sync: one
 * failing fails only itself). Opened as needed, at most `size`. A statement goes to an idle
 * connection when there is one: a connection runs its statements one after the other, and
 * each write waits for its commit to reach the disk (WAL flush), so statements queued behind
 * one another would lose group commit, and one waiting on a row lock would hold up those behind
 * it. Only when all are busy does it queue behind the fewest (pipelined, not waiting for a
 * checkout). Statements issued in the same tick on one connection leave in one write. A
 * connection that fails is dropped and the next statement opens a new one; what was in flight
 * on it fails.
 */
function systemStatements(url: string, size: number): Queryable & { close(): Promise<void> } {
  type Slot = { client: Promise<pg.Client> | null; inFlight: number; corked: boolean };
  const slots: Slot[] = Array.from({ length: size }, () => ({ client: null, inFlight: 0, corked: false }));
  let closed = false;
  const open = (slot: Slot): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: url, options: `-c role=${SYSTEM_ROLE}`, application_name: 'sesame:system:oidc', pipeline: true, keepAlive: true });
    // Like the pool's idle connections, an idle one does not keep the process alive (ref'd while a statement is in flight).
    const ready = client.connect().then(() => {
      if (slot.inFlight === 0) refOf(client).unref?.();
      return client;
    });
    const drop = (): void => {
      if (slot.client === ready) slot.client = null;
      void client.end().catch(() => undefined);
    };
    client.on('error', drop);
    client.on('end', drop);
    ready.catch(drop);
    return ready;
  };
  return {
    async query<R extends Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      if (closed) throw new Error('database closed');
      let chosen = slots[0] as Slot;
      for (const s of slots) {
        if (s.inFlight === 0 && s.client) {
          chosen = s; // idle and open
          break;
        }
        if (s.inFlight < chosen.inFlight || (s.inFlight === chosen.inFlight && !chosen.client && s.client)) chosen = s;
      }
      chosen.inFlight++;
      try {
        const client = await (chosen.client ??= open(chosen));
        if (!chosen.corked) {
          const stream = streamOf(client);
          chosen.corked = true;
          stream.cork();
          process.nextTick(() => {
            chosen.corked = false;
            stream.uncork();
          });
        }
        refOf(client).ref?.();
        try {
          const res = await client.query<R>(statement(sql, params));
          return { rows: res.rows, rowCount: res.rowCount ?? 0 };
        } finally {
          if (chosen.inFlight === 1) refOf(client).unref?.();
        }
      } finally {
        chosen.inFlight--;
      }
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.client?.then((c) => c.end()).catch(() => undefined)));
    },
  };
}

/**
 * Database.listen: one connection of the Database's own for all its listeners (on the locked
 * role: LISTEN needs no privilege), opened at the first listen(), checked every 10 s and
 * reconnected 1 s after a loss; onState(false) as soon as a loss is seen, onState(true) once
 * every channel is listened to again.
 */
function notifications(url: string): { listen(channel: string, h: ListenHandlers): () => Promise<void>; deliver(channel: string, payload: string): void; close(): Promise<void> } {
  const handlers = new Map<string, Set<ListenHandlers>>();
  let current: pg.Client | null = null;
  let listening = false;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  const each = (fn: (h: ListenHandlers) => void): void => {
    for (const set of handlers.values()) for (const h of set) fn(h);
  };
  let listenTo = async (_channel: string): Promise<void> => undefined;
  const connect = (): void => {
    retry = undefined;
    const c = new pg.Client({ connectionString: url, options: `-c role=${LOCKED_ROLE}`, application_name: 'sesame:listen', keepAlive: true });
    current = c;
    listening = false;
    const listened = new Set<string>();
    const ping = setInterval(() => void c.query('SELECT 1').catch(lost), 10_000).unref();
    function lost(): void {
      clearInterval(ping);
      if (current !== c) return;
      current = null;
      if (listening) each((h) => h.onState(false));
      listening = false;
      void c.end().catch(() => undefined);
      if (!closed && handlers.size > 0) retry = setTimeout(connect, 1000).unref();
    }
    c.on('error', lost);
    c.on('end', lost);
    c.on('notification', (n) => {
      if (current === c) for (const h of handlers.get(n.channel) ?? []) h.onMessage(n.payload ?? '');
    });
    // Every channel, including those added while connecting; a channel added later is listened to by listen().
    listenTo = async (channel: string): Promise<void> => {
      if (listened.has(channel)) return;
      listened.add(channel);
      await c.query(`LISTEN ${channel}`);
    };
    const start = async (): Promise<void> => {
      await c.connect();
      // Listening never keeps the process alive by itself (close() ends it).
      refOf(c).unref?.();
      for (let more = true; more; ) {
        const pending = [...handlers.keys()].filter((channel) => !listened.has(channel));
        more = pending.length > 0;
        for (const channel of pending) await listenTo(channel);
      }
      if (current !== c) return;
      listening = true;
      each((h) => h.onState(true));
    };
    start().catch(lost);
  };
  return {
    listen(channel, h) {
      if (!CHANNEL.test(channel)) throw new TypeError('invalid channel name');
      if (closed) throw new Error('database closed');
      let set = handlers.get(channel);
      if (!set) handlers.set(channel, (set = new Set()));
      set.add(h);
      if (!current && !retry) connect();
      else if (current && listening) {
        // Told it listens once LISTEN has run for its channel (at once if it already had).
        const c = current;
        listenTo(channel).then(
          () => void (current === c && listening && handlers.get(channel)?.has(h) && h.onState(true)),
          () => undefined,
        );
      }
      return async () => {
        set.delete(h);
      };
    },
    /** This process's own notifications, at once after the commit (they also come back through LISTEN). */
    deliver(channel, payload) {
      for (const h of handlers.get(channel) ?? []) h.onMessage(payload);
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const c = current;
      current = null;
      await c?.end().catch(() => undefined);
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
  const notes = notifications(url);
  const transaction = async <T>(fn: (tx: Transaction) => Promise<T>, setup?: TrustedSql): Promise<T> => {
    const client = await pool.connect();
    const stream = streamOf(client);
    let broken: Error | undefined;
    // Statements nobody waits for (BEGIN, send()): the first failure among them fails the transaction.
    const inFlight: Promise<void>[] = [];
    let failed: unknown;
    const notified: [string, string][] = [];
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
        notify: (channel, payload) => {
          if (!CHANNEL.test(channel)) throw new TypeError('invalid channel name');
          tx.send(`SELECT pg_notify($1, $2)`, [channel, payload]);
          notified.push([channel, payload]);
        },
      };
      const result = await fn(tx);
      // COMMIT shares the round trip of the statements still in flight (the audit insert).
      batch();
      const commit = client.query('COMMIT');
      await Promise.all([...inFlight, commit]);
      // After a failed statement PostgreSQL answers COMMIT with a rollback, not an error.
      if (failed !== undefined) throw failed;
      for (const [channel, payload] of notified) notes.deliver(channel, payload);
      return result;
    } catch (err) {
      // A connection whose ROLLBACK fails is in an unknown state: destroy it, never reuse it.
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.release(broken);
    }
  };
  const hot = systemStatements(url, options.max ?? 10);
  return {
    kind: 'postgres',
    transaction,
    oidcSystemStatements: { query: (sql, params) => hot.query(sql, params) },
    listen: (channel, handlers) => notes.listen(channel, handlers),
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
    async close() {
      await notes.close();
      await hot.close();
      await pool.end();
    },
  };
}
