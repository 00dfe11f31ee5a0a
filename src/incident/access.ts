import type { Clock } from '../clock.ts';
import { system, type Tx } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import { audit } from '../audit/log.ts';
import { forgetCachedAccess, rememberAccess } from './access-cache.ts';

/**
 * The kill switch: one flag in the database, shared by every server process, with its history
 * (who, when, why). While it is closed citizen pages answer a maintenance page and no login
 * or flow step goes through (access-gate.ts, and the login's own steps).
 */
export interface AccessState {
  open: boolean;
  /** Null: never changed since installation. */
  changedAt: Date | null;
  /** `operator:<name>` or `system:tripwire`. */
  changedBy: string | null;
  reason: string | null;
}

export interface AccessChange {
  /** False when access was already in the requested state (nothing written). */
  changed: boolean;
  state: AccessState;
}

/** Who changes the flag: an operator (the CLI) or the tripwire. */
export type AccessActor = { kind: 'operator'; name: string } | { kind: 'tripwire' };

export class AccessClosedError extends Error {
  override name = 'AccessClosedError';
  readonly statusCode = 503;
  constructor() {
    super('citizen access is closed (kill switch)');
  }
}

interface AccessRow extends Record<string, unknown> {
  open: boolean;
  changed_at: Date | null;
  changed_by: string | null;
  reason: string | null;
}

const toState = (r: AccessRow | undefined): AccessState =>
  // No row would mean a broken installation: closed, never silently open.
  r ? { open: r.open, changedAt: r.changed_at, changedBy: r.changed_by, reason: r.reason } : { open: false, changedAt: null, changedBy: null, reason: 'no access state row' };

/** The flag as the database has it now (no cache). */
export async function readAccess(db: Database): Promise<AccessState> {
  const state = await system(db, 'access', (tx) => readAccessIn(tx));
  rememberAccess(db, state);
  return state;
}

export async function readAccessIn(tx: Tx): Promise<AccessState> {
  const { rows } = await tx.query<AccessRow>(`SELECT open, changed_at, changed_by, reason FROM citizen_access`);
  return toState(rows[0]);
}

/** Refuses the step (login, flow) when access is closed; in the step's own transaction. */
export async function assertAccessOpen(tx: Tx): Promise<void> {
  if (!(await readAccessIn(tx)).open) throw new AccessClosedError();
}

const REASON_MAX = 500;

export async function closeAccess(db: Database, clock: Clock, o: { by: AccessActor; reason: string }): Promise<AccessChange> {
  const reason = checkReason(o.reason);
  forgetCachedAccess(db);
  const change = await system(db, contextOf(o.by), (tx) => closeAccessIn(tx, clock, { by: o.by, reason }));
  // This process answers closed from now on, whatever its cache held.
  rememberAccess(db, change.state);
  return change;
}

export async function openAccess(db: Database, clock: Clock, o: { by: AccessActor }): Promise<AccessChange> {
  const change = await system(db, contextOf(o.by), (tx) => setAccess(tx, clock, { open: true, by: o.by, reason: null }));
  rememberAccess(db, change.state);
  return change;
}

/** In the caller's transaction (the tripwire closes access in the one that counts the violation). */
export function closeAccessIn(tx: Tx, clock: Clock, o: { by: AccessActor; reason: string }): Promise<AccessChange> {
  return setAccess(tx, clock, { open: false, by: o.by, reason: checkReason(o.reason) });
}

async function setAccess(tx: Tx, clock: Clock, o: { open: boolean; by: AccessActor; reason: string | null }): Promise<AccessChange> {
  const now = clock.now();
  const by = o.by.kind === 'operator' ? `operator:${o.by.name}` : 'system:tripwire';
  // The guarded UPDATE takes the row lock: two processes closing at once change it once.
  const { rows } = await tx.query<AccessRow>(
    `UPDATE citizen_access SET open = $1, changed_at = $2, changed_by = $3, reason = $4 WHERE open <> $1 RETURNING open, changed_at, changed_by, reason`,
    [o.open, now, by, o.reason],
  );
  if (rows.length === 0) return { changed: false, state: await readAccessIn(tx) };
  tx.send(`INSERT INTO citizen_access_history (state, changed_at, changed_by, reason) VALUES ($1, $2, $3, $4)`, [o.open ? 'open' : 'closed', now, by, o.reason]);
  const via = o.by.kind === 'operator' ? 'cli' : 'tripwire';
  const operator = o.by.kind === 'operator' ? o.by.name : undefined;
  await audit(tx, clock, o.open ? { type: 'access.opened', accountId: null, payload: { via } } : { type: 'access.closed', accountId: null, payload: { via } }, operator);
  return { changed: true, state: toState(rows[0]) };
}

export interface AccessHistoryEntry {
  state: 'open' | 'closed';
  changedAt: Date;
  changedBy: string;
  reason: string | null;
}

/** The last changes of the flag, newest first. */
export async function accessHistory(db: Database, limit = 10): Promise<AccessHistoryEntry[]> {
  const { rows } = await system(db, 'access', (tx) =>
    tx.query<{ state: 'open' | 'closed'; changed_at: Date; changed_by: string; reason: string | null }>(
      `SELECT state, changed_at, changed_by, reason FROM citizen_access_history ORDER BY seq DESC LIMIT $1`,
      [limit],
    ),
  );
  return rows.map((r) => ({ state: r.state, changedAt: r.changed_at, changedBy: r.changed_by, reason: r.reason }));
}

const contextOf = (by: AccessActor): string => (by.kind === 'operator' ? 'cli:access' : 'tripwire');

function checkReason(reason: string): string {
  const trimmed = reason.trim();
  if (trimmed === '' || trimmed.length > REASON_MAX || /\p{Cc}/u.test(trimmed)) {
    throw new RangeError(`the reason must be 1 to ${REASON_MAX} characters of text on one line`);
  }
  return trimmed;
}
