import type { Database, Transaction } from './database.ts';

/**
 * No context, no data (DESIGN principle 2). Each context is one transaction whose role is
 * set with SET LOCAL, so it cannot outlive the transaction or leak to the next user of a
 * pooled connection.
 */
export type Context =
  | { readonly kind: 'citizen'; readonly accountId: string }
  | { readonly kind: 'system'; readonly reason: string };

export interface Tx extends Transaction {
  readonly context: Context;
  /** Runs `task` once the transaction's work is done, just before it commits (and not at all if it fails first); it send()s what it writes. */
  beforeCommit(task: () => void): void;
}

/** A lower-case UUID, as PostgreSQL prints them and as ids travel in our URLs. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REASON = /^[a-z][a-z0-9-]*(:[a-z0-9-]+)*$/;

async function run<T>(db: Database, context: Context, role: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  // Inlined, not bound: both values passed UUID / REASON above, which admit no quote.
  const accountId = context.kind === 'citizen' ? context.accountId : '';
  const name = context.kind === 'citizen' ? 'sesame:citizen' : `sesame:system:${context.reason}`;
  const setup = `SET LOCAL ROLE ${role}; SELECT set_config('sesame.account_id', '${accountId}', true), set_config('application_name', '${name}', true)`;
  return db.transaction(async (q) => {
    const tasks: (() => void)[] = [];
    const result = await fn({
      context,
      query: (sql, params) => q.query(sql, params),
      send: (sql, params) => q.send(sql, params),
      notify: (channel, payload) => (q.notify ? q.notify(channel, payload) : q.send(`SELECT pg_notify($1, $2)`, [channel, payload])),
      beforeCommit: (task) => void tasks.push(task),
    });
    for (const task of tasks) task();
    return result;
  }, { trusted: setup });
}

/** A transaction that sees and changes only this account's rows (row-level security). */
export function citizen<T>(db: Database, accountId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (!UUID.test(accountId)) throw new TypeError('citizen context needs an account id');
  return run(db, { kind: 'citizen', accountId }, 'sesame_citizen', fn);
}

/**
 * A transaction for flows that must find an account before anyone is logged in, for
 * workers and operator commands. The reason (`login`, `mail-worker`, `cli:users-create`)
 * is shown in pg_stat_activity and names the actor in audit events.
 */
export function system<T>(db: Database, reason: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (!REASON.test(reason)) throw new TypeError(`system context reason must be a slug, got ${JSON.stringify(reason)}`);
  return run(db, { kind: 'system', reason }, 'sesame_system', fn);
}
