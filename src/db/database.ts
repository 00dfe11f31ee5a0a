/**
 * One interface over embedded PGlite and a PostgreSQL server (DESIGN principle 1).
 * Callers never get a bare connection: they get a transaction, and domain code only
 * gets one through a context (contexts.ts), which sets the role RLS policies read.
 */
export type Row = Record<string, unknown>;

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/**
 * Inside a transaction, a statement whose result the caller does not need can be sent
 * without waiting for it: on PostgreSQL it shares a round trip with whatever follows (the
 * next query, the COMMIT). Statements still run in the order they were sent, so later
 * queries see its effect; if it fails, the transaction fails.
 */
export interface Transaction extends Queryable {
  send(sql: string, params?: readonly unknown[]): void;
  /**
   * pg_notify in this transaction: other processes' listeners get it at its commit, and this
   * Database's own listeners get it at once after the commit, before the transaction's promise
   * resolves (so that this process never serves what it has just changed from a cache).
   * Optional on wrappers that never notify (a citizen request's gate).
   */
  notify?(channel: string, payload: string): void;
}

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  /** A transaction on the locked-down session role: it can do nothing until a context sets a role. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, setup?: TrustedSql): Promise<T>;
  /** A statement outside any context (runs as the unprivileged role). For health checks. */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /**
   * LISTEN on a channel, on a connection of its own (PostgreSQL) or in process (PGlite):
   * `onMessage` gets each notification's payload. `onState(true)` once listening, `onState(false)`
   * when the connection is lost (notifications sent meanwhile are lost too); it reconnects by
   * itself. A cache that relies on notifications must not serve while it is not listening.
   * Stopped by the returned function or by close().
   */
  listen(channel: string, handlers: ListenHandlers): () => Promise<void>;
  /**
   * PostgreSQL only, and a deliberate exception to "no context, no data", for the token and
   * userinfo hot path of the OpenID Connect provider: single statements in autocommit on a few
   * connections that start as sesame_system (a startup option, like the locked role of the
   * pool), without the BEGIN / SET LOCAL ROLE / set_config / COMMIT around each of them. Never
   * broader than the system context; only src/oidc/adapter.ts may use it (checked by
   * test/integration/oidc-one-trip.test.ts). Absent on PGlite (no round trips to save).
   */
  readonly oidcSystemStatements?: Queryable;
  close(): Promise<void>;
}

export interface ListenHandlers {
  onMessage(payload: string): void;
  onState(listening: boolean): void;
}

/** Channel names we LISTEN on: an identifier, inlined (LISTEN takes no parameter). */
export const CHANNEL = /^[a-z][a-z0-9_]{0,62}$/;

/** The role of the system context (contexts.ts) and of oidcSystemStatements' connections. */
export const SYSTEM_ROLE = 'sesame_system';

/**
 * The role every connection falls back to. It owns nothing and is granted nothing, so a
 * query that forgot its context fails instead of seeing everything.
 */
export const LOCKED_ROLE = 'sesame_none';

/** Raw owner access, for migrations only: never handed to domain code. */
export interface OwnerAccess {
  runAsOwner<T>(fn: (q: OwnerQueryable) => Promise<T>): Promise<T>;
}

export interface OwnerQueryable extends Queryable {
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * SQL built by our own code from validated values only, run right after BEGIN in the same
 * round trip (simple protocol, so no parameters). Contexts use it to set their role.
 */
export type TrustedSql = { readonly trusted: string };
