import type { Clock } from '../clock.ts';
import { system, type Tx } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import { audit } from '../audit/log.ts';
import { forgetCachedAccess, rememberAccess } from './access-cache.ts';
import { checkMessages, type AccessMessages } from './access-message.ts';
import { ACCESS_SCOPES, scopesOf, type AccessScope, type ScopeChoice } from './access-scope.ts';
import { findIncident, listIncidents, recordStep, UnknownIncidentError, type Incident, type IncidentActor } from './incidents.ts';

/**
 * The kill switch: one flag per scope in the database (`citizens`: citizen pages, logins and
 * sessions; `staff`: the operator console), shared by every server process, with its history
 * (scope, who, when, why, the message shown). While `citizens` is closed citizen pages answer a
 * maintenance page, no login or flow step goes through (access-gate.ts, and the login's own
 * steps), and closing it ends every live citizen session.
 */
export interface AccessState {
  scope: AccessScope;
  open: boolean;
  /** Null: never changed since installation. */
  changedAt: Date | null;
  /** `operator:<name>`, `staff:<name>` or `system:tripwire`. */
  changedBy: string | null;
  reason: string | null;
  /** The operators' words on the maintenance page; null: the default text. */
  messages: AccessMessages | null;
}

export interface ScopeChange {
  scope: AccessScope;
  /** False when the scope was already in the requested state (nothing written for it). */
  changed: boolean;
  state: AccessState;
}

export interface AccessChange {
  /** True when at least one scope changed. */
  changed: boolean;
  /** The first scope's state (citizens for `all`). */
  state: AccessState;
  scopes: ScopeChange[];
  /** Citizen sessions ended by this close (0 for an opening or the staff scope). */
  sessionsEnded: number;
  /** Staff (console) sessions ended by this close (0 for an opening or the citizens' scope). */
  staffSessionsEnded: number;
  /** The incident whose timeline got the step, if any. */
  incident: string | null;
}

/** Who changes the flag: an operator (the CLI), a staff member (the console) or the tripwire. */
export type AccessActor = { kind: 'operator' | 'staff'; name: string } | { kind: 'tripwire' };

export class AccessClosedError extends Error {
  override name = 'AccessClosedError';
  readonly statusCode = 503;
  constructor() {
    super('access is closed (kill switch)');
  }
}

const TABLES: Record<AccessScope, string> = { citizens: 'citizen_access', staff: 'staff_access' };
const COLUMNS = 'open, changed_at, changed_by, reason, message_fr, message_en';

interface AccessRow extends Record<string, unknown> {
  open: boolean;
  changed_at: Date | null;
  changed_by: string | null;
  reason: string | null;
  message_fr: string | null;
  message_en: string | null;
}

const toState = (scope: AccessScope, r: AccessRow | undefined): AccessState =>
  // No row would mean a broken installation: closed, never silently open.
  r
    ? { scope, open: r.open, changedAt: r.changed_at, changedBy: r.changed_by, reason: r.reason, messages: r.message_fr && r.message_en ? { fr: r.message_fr, en: r.message_en } : null }
    : { scope, open: false, changedAt: null, changedBy: null, reason: 'no access state row', messages: null };

/** A scope's flag as the database has it now (no cache). */
export async function readAccess(db: Database, scope: AccessScope = 'citizens'): Promise<AccessState> {
  const state = await system(db, 'access', (tx) => readAccessIn(tx, scope));
  rememberAccess(db, state);
  return state;
}

export async function readAccessIn(tx: Tx, scope: AccessScope = 'citizens'): Promise<AccessState> {
  const { rows } = await tx.query<AccessRow>(`SELECT ${COLUMNS} FROM ${TABLES[scope]}`);
  return toState(scope, rows[0]);
}

/** Both scopes, read together. */
export async function readAccessScopes(db: Database): Promise<Record<AccessScope, AccessState>> {
  const [citizens, staff] = await system(db, 'access', (tx) => Promise.all([readAccessIn(tx, 'citizens'), readAccessIn(tx, 'staff')]));
  rememberAccess(db, citizens);
  rememberAccess(db, staff);
  return { citizens, staff };
}

/**
 * Refuses the step (login, flow; a console login for `staff`) when the scope is closed; in the
 * step's own transaction.
 * FOR SHARE: a close waits for the steps in flight, so the sessions they start are there for
 * it to end, and a step that comes after the close sees it. Call it before touching any
 * session row: a close locks the flag, then the sessions (the same order, no deadlock).
 */
export async function assertAccessOpen(tx: Tx, scope: AccessScope = 'citizens'): Promise<void> {
  const { rows } = await tx.query<{ open: boolean }>(`SELECT open FROM ${TABLES[scope]} FOR SHARE`);
  if (!rows[0]?.open) throw new AccessClosedError();
}

const REASON_MAX = 500;

export interface CloseOptions {
  /** Default `citizens`. */
  scope?: ScopeChoice;
  by: AccessActor;
  reason: string;
  messages?: AccessMessages | null;
  /** The incident to record the step on; default: the only open incident, if exactly one is open. */
  incident?: string;
  /** Run in the change's transaction once it is made (the console's own audit event): the change and its record commit together. */
  also?: AlsoInTx;
}

export type AlsoInTx = (tx: Tx, change: AccessChange) => Promise<void>;

export interface OpenOptions {
  scope?: ScopeChoice;
  by: AccessActor;
  incident?: string;
  also?: AlsoInTx;
}

/** Closes the scope(s); closing citizens ends every live citizen session in the same transaction. */
export async function closeAccess(db: Database, clock: Clock, o: CloseOptions): Promise<AccessChange> {
  const reason = checkReason(o.reason);
  const messages = checkMessages(o.messages);
  const scope = o.scope ?? 'citizens';
  forgetCachedAccess(db);
  const change = await system(db, contextOf(o.by), async (tx) => {
    const incident = await incidentFor(tx, o.incident);
    const done = await setScopes(tx, clock, { scope, open: false, by: o.by, reason, messages });
    if (incident) await recordStep(tx, clock, incident, { kind: 'access', by: incidentActor(o.by), applied: true, summary: stepSummary('close', scope, o.by, done, messages !== null) });
    const change = { ...done, incident: incident?.reference ?? null };
    if (o.also) await o.also(tx, change);
    return change;
  });
  // This process answers the new state from now on, whatever its cache held.
  for (const s of change.scopes) rememberAccess(db, s.state);
  return change;
}

export async function openAccess(db: Database, clock: Clock, o: OpenOptions): Promise<AccessChange> {
  const scope = o.scope ?? 'citizens';
  const change = await system(db, contextOf(o.by), async (tx) => {
    const incident = await incidentFor(tx, o.incident);
    const done = await setScopes(tx, clock, { scope, open: true, by: o.by, reason: null, messages: null });
    if (incident) await recordStep(tx, clock, incident, { kind: 'access', by: incidentActor(o.by), applied: true, summary: stepSummary('open', scope, o.by, done, false) });
    const change = { ...done, incident: incident?.reference ?? null };
    if (o.also) await o.also(tx, change);
    return change;
  });
  for (const s of change.scopes) rememberAccess(db, s.state);
  return change;
}

/** In the caller's transaction (the tripwire closes citizen access in the one that counts the violation). */
export async function closeAccessIn(tx: Tx, clock: Clock, o: { scope?: ScopeChoice; by: AccessActor; reason: string; messages?: AccessMessages | null }): Promise<AccessChange> {
  const done = await setScopes(tx, clock, { scope: o.scope ?? 'citizens', open: false, by: o.by, reason: checkReason(o.reason), messages: checkMessages(o.messages) });
  return { ...done, incident: null };
}

export interface AccessPreview {
  action: 'close' | 'open';
  scope: ScopeChoice;
  scopes: { scope: AccessScope; open: boolean; wouldChange: boolean }[];
  /** Live citizen sessions a close would end now (0 for an opening or the staff scope). */
  sessionsToEnd: number;
  /** Live staff sessions a close would end now (0 for an opening or the citizens' scope). */
  staffSessionsToEnd: number;
  incident: string | null;
}

/**
 * What a close or an open would do, changing nothing. A dry run is a step of the incident's
 * timeline too (applied: false) unless `record` is false (a console page showing the numbers).
 */
export async function previewAccess(
  db: Database,
  clock: Clock,
  o: { action: 'close' | 'open'; scope?: ScopeChoice; by: AccessActor; incident?: string; messages?: AccessMessages | null; record?: boolean },
): Promise<AccessPreview> {
  const scope = o.scope ?? 'citizens';
  const messages = checkMessages(o.messages);
  return system(db, contextOf(o.by), async (tx) => {
    const incident = await incidentFor(tx, o.incident);
    const scopes = [];
    for (const s of scopesOf(scope)) {
      const state = await readAccessIn(tx, s);
      scopes.push({ scope: s, open: state.open, wouldChange: state.open !== (o.action === 'open') });
    }
    const closing = o.action === 'close';
    const sessionsToEnd = closing && scopesOf(scope).includes('citizens') ? await liveSessions(tx, clock.now()) : 0;
    const staffSessionsToEnd = closing && scopesOf(scope).includes('staff') ? await liveSessions(tx, clock.now(), 'staff') : 0;
    if (incident && o.record !== false) {
      const summary = {
        action: o.action,
        scope,
        via: viaOf(o.by),
        changed: scopes.filter((s) => s.wouldChange).map((s) => s.scope),
        sessionsEnded: sessionsToEnd,
        staffSessionsEnded: staffSessionsToEnd,
        message: messages !== null,
      };
      await recordStep(tx, clock, incident, { kind: 'access', by: incidentActor(o.by), applied: false, summary });
    }
    return { action: o.action, scope, scopes, sessionsToEnd, staffSessionsToEnd, incident: incident?.reference ?? null };
  });
}

async function setScopes(
  tx: Tx,
  clock: Clock,
  o: { scope: ScopeChoice; open: boolean; by: AccessActor; reason: string | null; messages: AccessMessages | null },
): Promise<Omit<AccessChange, 'incident'>> {
  const scopes: ScopeChange[] = [];
  // Always citizens before staff (ACCESS_SCOPES' order): two changes at once lock in the same order.
  for (const scope of ACCESS_SCOPES) if (scopesOf(o.scope).includes(scope)) scopes.push(await setScope(tx, clock, scope, o));
  // Every close of citizens sweeps the sessions, even when already closed: a repeat is a cleanup.
  const sessionsEnded = !o.open && scopes.some((s) => s.scope === 'citizens') ? await endSessions(tx, clock, 'citizens') : 0;
  // Likewise for the console: a staff account in the wrong hands (the employment agency's
  // breach came through a partner's staff accounts) keeps no session into the reopening.
  const staffSessionsEnded = !o.open && scopes.some((s) => s.scope === 'staff') ? await endSessions(tx, clock, 'staff') : 0;
  const first = scopes[0] as ScopeChange;
  return { changed: scopes.some((s) => s.changed), state: first.state, scopes, sessionsEnded, staffSessionsEnded };
}

async function setScope(tx: Tx, clock: Clock, scope: AccessScope, o: { open: boolean; by: AccessActor; reason: string | null; messages: AccessMessages | null }): Promise<ScopeChange> {
  const now = clock.now();
  const by = labelOf(o.by);
  const fr = o.messages?.fr ?? null;
  const en = o.messages?.en ?? null;
  // The guarded UPDATE takes the row lock: two processes closing at once change it once.
  const { rows } = await tx.query<AccessRow>(
    `UPDATE ${TABLES[scope]} SET open = $1, changed_at = $2, changed_by = $3, reason = $4, message_fr = $5, message_en = $6 WHERE open <> $1 RETURNING ${COLUMNS}`,
    [o.open, now, by, o.reason, fr, en],
  );
  if (rows.length === 0) return { scope, changed: false, state: await readAccessIn(tx, scope) };
  tx.send(`INSERT INTO citizen_access_history (scope, state, changed_at, changed_by, reason, message_fr, message_en) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
    scope,
    o.open ? 'open' : 'closed',
    now,
    by,
    o.reason,
    fr,
    en,
  ]);
  const payload = { via: viaOf(o.by), scope };
  await audit(tx, clock, o.open ? { type: 'access.opened', accountId: null, payload } : { type: 'access.closed', accountId: null, payload }, o.by.kind === 'operator' ? o.by.name : undefined);
  return { scope, changed: true, state: toState(scope, rows[0]) };
}

/** Each scope's sessions: the citizens' and the console's. */
const SESSION_TABLES: Record<AccessScope, string> = { citizens: 'sessions', staff: 'staff_sessions' };

/** Sessions of the scope not ended and not past their absolute expiry. */
async function liveSessions(tx: Tx, now: Date, scope: AccessScope = 'citizens'): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SESSION_TABLES[scope]} WHERE ended_at IS NULL AND expires_at > $1`, [now]);
  return rows[0]?.n ?? 0;
}

/** Ends every live session of the scope; one audit event with the count (nobody named). */
async function endSessions(tx: Tx, clock: Clock, scope: AccessScope): Promise<number> {
  const now = clock.now();
  const { rows } = await tx.query<{ n: number }>(
    `WITH ended AS (UPDATE ${SESSION_TABLES[scope]} SET ended_at = $1, end_reason = 'access-closed' WHERE ended_at IS NULL AND expires_at > $1 RETURNING 1) SELECT count(*)::int AS n FROM ended`,
    [now],
  );
  const n = rows[0]?.n ?? 0;
  if (n > 0) {
    await audit(
      tx,
      clock,
      scope === 'citizens'
        ? { type: 'sessions.ended', accountId: null, payload: { count: n, reason: 'access-closed', kept: null } }
        : { type: 'staff.sessions-ended', accountId: null, payload: { count: n, reason: 'access-closed' } },
    );
  }
  return n;
}

/** The incident named (it must exist), else the only open one, else none: the switch never depends on it. */
async function incidentFor(tx: Tx, reference: string | undefined): Promise<Incident | null> {
  if (reference !== undefined) {
    const found = await findIncident(tx, reference);
    if (!found) throw new UnknownIncidentError(`no incident ${reference.toUpperCase()}`);
    return found;
  }
  const open = await listIncidents(tx, { openOnly: true });
  return open.length === 1 ? (open[0] as Incident) : null;
}

function stepSummary(action: 'close' | 'open', scope: ScopeChoice, by: AccessActor, done: Omit<AccessChange, 'incident'>, message: boolean) {
  return { action, scope, via: viaOf(by), changed: done.scopes.filter((s) => s.changed).map((s) => s.scope), sessionsEnded: done.sessionsEnded, staffSessionsEnded: done.staffSessionsEnded, message };
}

export interface AccessHistoryEntry {
  scope: AccessScope;
  state: 'open' | 'closed';
  changedAt: Date;
  changedBy: string;
  reason: string | null;
}

/** The last changes of the flags, newest first. */
export async function accessHistory(db: Database, limit = 10): Promise<AccessHistoryEntry[]> {
  const { rows } = await system(db, 'access', (tx) =>
    tx.query<{ scope: AccessScope; state: 'open' | 'closed'; changed_at: Date; changed_by: string; reason: string | null }>(
      `SELECT scope, state, changed_at, changed_by, reason FROM citizen_access_history ORDER BY seq DESC LIMIT $1`,
      [limit],
    ),
  );
  return rows.map((r) => ({ scope: r.scope, state: r.state, changedAt: r.changed_at, changedBy: r.changed_by, reason: r.reason }));
}

const labelOf = (by: AccessActor): string => (by.kind === 'tripwire' ? 'system:tripwire' : `${by.kind}:${by.name}`);
const viaOf = (by: AccessActor): 'cli' | 'console' | 'tripwire' => (by.kind === 'operator' ? 'cli' : by.kind === 'staff' ? 'console' : 'tripwire');
const incidentActor = (by: AccessActor): IncidentActor => (by.kind === 'tripwire' ? { kind: 'system', name: 'tripwire' } : { kind: by.kind, name: by.name });
const contextOf = (by: AccessActor): string => (by.kind === 'operator' ? 'cli:access' : by.kind === 'staff' ? 'console:access' : 'tripwire');

function checkReason(reason: string): string {
  const trimmed = reason.trim();
  if (trimmed === '' || trimmed.length > REASON_MAX || /\p{Cc}/u.test(trimmed)) {
    throw new RangeError(`the reason must be 1 to ${REASON_MAX} characters of text on one line`);
  }
  return trimmed;
}
