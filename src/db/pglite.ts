import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.ts';
import { CHANNEL, LOCKED_ROLE, type Database, type ListenHandlers, type OwnerAccess, type Queryable, type Row, type QueryResult } from './database.ts';

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
  let unlock = async (): Promise<void> => undefined;
  if (dataDir) {
    await mkdir(dataDir, { recursive: true });
    unlock = await lockDataDir(dataDir);
  }
  const pg = await PGlite.create(dataDir ?? 'memory://').catch(async (err: unknown) => {
    await unlock();
    throw err;
  });
  let locked = false;
  const lock = async (): Promise<void> => {
    const exists = await pg.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [LOCKED_ROLE]);
    if (exists.rows.length > 0) {
      await pg.exec(`SET ROLE ${LOCKED_ROLE}`);
      locked = true;
    }
  };
  await lock();
  const stops = new Set<() => Promise<void>>();
  const local = new Map<string, Set<ListenHandlers>>();
  return {
    kind: 'pglite',
    transaction: async (fn, setup) => {
      if (!locked) throw new Error('database is not migrated: run `sesame migrate`');
      const notified: [string, string][] = [];
      const result = await pg.transaction(async (tx) => {
        if (setup) await tx.exec(setup.trusted);
        // In process there is no round trip to save: send() only keeps the order and the first failure.
        let chain: Promise<unknown> = Promise.resolve();
        let failed: unknown;
        const inOrder = <R>(run: () => Promise<R>): Promise<R> => {
          const next = chain.then(run);
          chain = next.catch((err: unknown) => void (failed ??= err));
          return next;
        };
        const q = wrap(tx);
        const result = await fn({
          async query<R extends Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
            const res = await inOrder(() => q.query<R>(sql, params)).catch((err: unknown) => {
              throw failed ?? err;
            });
            if (failed !== undefined) throw failed;
            return res;
          },
          send: (sql, params) => void inOrder(() => q.query(sql, params)).catch(() => undefined),
          notify: (channel, payload) => {
            if (!CHANNEL.test(channel)) throw new TypeError('invalid channel name');
            void inOrder(() => q.query(`SELECT pg_notify($1, $2)`, [channel, payload])).catch(() => undefined);
            notified.push([channel, payload]);
          },
        });
        await chain;
        if (failed !== undefined) throw failed;
        return result;
      });
      // Committed: this process's listeners know at once (PGlite's own delivery may come later).
      for (const [channel, payload] of notified) for (const h of local.get(channel) ?? []) h.onMessage(payload);
      return result;
    },
    query: (sql, params) => {
      if (!locked) throw new Error('database is not migrated: run `sesame migrate`');
      return wrap(pg).query(sql, params);
    },
    // In process: notifications of this process's own transactions (PGlite has no other
    // process), delivered after their commit. Listening from the moment LISTEN has run.
    listen(channel, h) {
      if (!CHANNEL.test(channel)) throw new TypeError('invalid channel name');
      let stopped = false;
      let set = local.get(channel);
      if (!set) local.set(channel, (set = new Set()));
      set.add(h);
      const unlisten = pg.listen(channel, (payload) => {
        if (!stopped) h.onMessage(payload);
      });
      void unlisten.then(() => {
        if (!stopped) h.onState(true);
      }, () => undefined);
      const stop = async (): Promise<void> => {
        if (stopped) return;
        stopped = true;
        stops.delete(stop);
        set.delete(h);
        if (!pg.closed) await (await unlisten.catch(() => null))?.().catch(() => undefined);
      };
      stops.add(stop);
      return stop;
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
    async close() {
      try {
        await Promise.all([...stops].map((stop) => stop()));
        await pg.close();
      } finally {
        await unlock();
      }
    },
  };
}
