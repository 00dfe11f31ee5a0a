import { audit } from '../audit/log.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../crypto/random.ts';
import type { Tx } from '../db/contexts.ts';
import { DISPLAY_NAME_MAX, LOGIN, type StaffRole } from './policy.ts';
import { endStaffSessions } from './sessions.ts';

/**
 * Staff accounts: a login name, a display name (shown in the console only, never logged), a
 * role. Their own tables (023): a staff member is never a citizen account.
 */
export interface StaffAccount {
  id: string;
  login: string;
  displayName: string;
  role: StaffRole;
  createdAt: Date;
  disabledAt: Date | null;
}

interface StaffRow extends Record<string, unknown> {
  id: string;
  login: string;
  display_name: string;
  role: StaffRole;
  created_at: Date;
  disabled_at: Date | null;
}

const COLUMNS = 'id, login, display_name, role, created_at, disabled_at';
const toStaff = (r: StaffRow): StaffAccount => ({ id: r.id, login: r.login, displayName: r.display_name, role: r.role, createdAt: r.created_at, disabledAt: r.disabled_at });

export class StaffInputError extends RangeError {
  override name = 'StaffInputError';
  readonly field: 'login' | 'name';
  constructor(field: 'login' | 'name', message: string) {
    super(message);
    this.field = field;
  }
}

export class DuplicateStaffError extends Error {
  override name = 'DuplicateStaffError';
}

export function checkLogin(login: string): string {
  if (!LOGIN.test(login)) throw new StaffInputError('login', 'the login must be 2 to 40 characters: lower-case letters, digits, dot, dash or underscore, starting with a letter');
  return login;
}

export function checkDisplayName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > DISPLAY_NAME_MAX || /\p{Cc}/u.test(trimmed)) throw new StaffInputError('name', `the display name must be 1 to ${DISPLAY_NAME_MAX} characters on one line`);
  return trimmed;
}

export async function createStaff(tx: Tx, clock: Clock, o: { login: string; displayName: string; role: StaffRole; createdBy: string }): Promise<StaffAccount> {
  const login = checkLogin(o.login);
  const displayName = checkDisplayName(o.displayName);
  const { rows } = await tx.query<StaffRow>(
    `INSERT INTO staff_accounts (id, login, display_name, role, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (login) DO NOTHING RETURNING ${COLUMNS}`,
    [newId(), login, displayName, o.role, clock.now(), o.createdBy],
  );
  const row = rows[0];
  if (!row) throw new DuplicateStaffError(`a staff account with the login ${login} already exists`);
  const staff = toStaff(row);
  await audit(tx, clock, { type: 'staff.created', accountId: null, payload: { staffId: staff.id, role: staff.role } }, o.createdBy);
  return staff;
}

export async function findStaff(tx: Tx, by: { login: string } | { id: string }): Promise<StaffAccount | null> {
  const [column, value] = 'login' in by ? ['login', by.login] : ['id', by.id];
  const { rows } = await tx.query<StaffRow>(`SELECT ${COLUMNS} FROM staff_accounts WHERE ${column} = $1`, [value]);
  return rows[0] ? toStaff(rows[0]) : null;
}

export async function listStaff(tx: Tx): Promise<(StaffAccount & { passkeys: number; liveSessions: number })[]> {
  const { rows } = await tx.query<StaffRow & { passkeys: number; live_sessions: number }>(
    `SELECT ${COLUMNS.split(', ').map((c) => `s.${c}`).join(', ')},
            (SELECT count(*)::int FROM staff_passkeys p WHERE p.staff_id = s.id) AS passkeys,
            (SELECT count(*)::int FROM staff_sessions x WHERE x.staff_id = s.id AND x.ended_at IS NULL) AS live_sessions
       FROM staff_accounts s ORDER BY s.login`,
  );
  return rows.map((r) => ({ ...toStaff(r), passkeys: r.passkeys, liveSessions: r.live_sessions }));
}

/** Disables the account and ends its sessions, in one transaction: no request of theirs gets through after it. */
export async function disableStaff(tx: Tx, clock: Clock, staffId: string, operator: string): Promise<{ changed: boolean; sessionsEnded: number }> {
  const { rows } = await tx.query(`UPDATE staff_accounts SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL RETURNING id`, [staffId, clock.now()]);
  const sessionsEnded = await endStaffSessions(tx, clock, staffId, 'disabled');
  if (rows.length === 1) await audit(tx, clock, { type: 'staff.disabled', accountId: null, payload: { staffId, sessionsEnded } }, operator);
  return { changed: rows.length === 1, sessionsEnded };
}
