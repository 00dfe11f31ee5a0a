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
}

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  /** A transaction on the locked-down session role: it can do nothing until a context sets a role. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, setup?: TrustedSql): Promise<T>;
  /** A statement outside any context (runs as the unprivileged role). For health checks. */
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  close(): Promise<void>;
}

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
