import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { newId, randomToken } from '../crypto/random.ts';
import type { Tx } from '../db/contexts.ts';
import { STAFF_POLICY } from './policy.ts';

/**
 * Console sessions, like citizens' (src/auth/sessions.ts) but in their own table: a 256-bit
 * token in the cookie, its SHA-256 in the database, a new token at login and at each step-up
 * (a cookie copied before does not gain the fresh assertion). Idle 15 min, absolute 8 h.
 */
export interface StaffSession {
  id: string;
  staffId: string;
  login: string;
  displayName: string;
  createdAt: Date;
  expiresAt: Date;
  /** The last passkey assertion of this session (login or step-up). */
  steppedUpAt: Date;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const tokenHash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();
/** last_seen_at is written at most this often. */
const TOUCH_EVERY_MS = 30_000;

export type StaffSessionEnd = 'logout' | 'idle' | 'expired' | 'disabled';

export async function startStaffSession(tx: Tx, clock: Clock, staffId: string): Promise<{ id: string; token: string }> {
  const id = newId();
  const token = randomToken(32);
  const now = clock.now();
  await tx.query(
    `INSERT INTO staff_sessions (id, staff_id, token_hash, created_at, last_seen_at, expires_at, stepped_up_at) VALUES ($1, $2, $3, $4, $4, $5, $4)`,
    [id, staffId, tokenHash(token), now, new Date(now.getTime() + STAFF_POLICY.sessionAbsolute * 1000)],
  );
  return { id, token };
}

interface Row extends Record<string, unknown> {
  id: string;
  staff_id: string;
  login: string;
  display_name: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  stepped_up_at: Date;
  ended_at: Date | null;
}

/** The live session of a cookie token, or null; one past its limits is ended on the spot. */
export async function resolveStaffSession(tx: Tx, clock: Clock, token: string | undefined): Promise<StaffSession | null> {
  if (token === undefined || !TOKEN.test(token)) return null;
  const { rows } = await tx.query<Row>(
    // A disabled staff account has no live session, whatever the session row says.
    `SELECT s.id, s.staff_id, a.login, a.display_name, s.created_at, s.last_seen_at, s.expires_at, s.stepped_up_at, s.ended_at
       FROM staff_sessions s JOIN staff_accounts a ON a.id = s.staff_id AND a.disabled_at IS NULL WHERE s.token_hash = $1`,
    [tokenHash(token)],
  );
  const row = rows[0];
  if (!row || row.ended_at !== null) return null;
  const now = clock.now().getTime();
  const expired = row.expires_at.getTime() <= now;
  if (expired || row.last_seen_at.getTime() + STAFF_POLICY.sessionIdle * 1000 <= now) {
    await endStaffSession(tx, clock, row.id, expired ? 'expired' : 'idle');
    return null;
  }
  if (now - row.last_seen_at.getTime() >= TOUCH_EVERY_MS) tx.send(`UPDATE staff_sessions SET last_seen_at = $2 WHERE id = $1 AND ended_at IS NULL`, [row.id, new Date(now)]);
  return { id: row.id, staffId: row.staff_id, login: row.login, displayName: row.display_name, createdAt: row.created_at, expiresAt: row.expires_at, steppedUpAt: row.stepped_up_at };
}

export async function endStaffSession(tx: Tx, clock: Clock, sessionId: string, reason: StaffSessionEnd): Promise<boolean> {
  const { rows } = await tx.query(`UPDATE staff_sessions SET ended_at = $2, end_reason = $3 WHERE id = $1 AND ended_at IS NULL RETURNING id`, [sessionId, clock.now(), reason]);
  return rows.length === 1;
}

export async function endStaffSessions(tx: Tx, clock: Clock, staffId: string, reason: StaffSessionEnd): Promise<number> {
  const { rows } = await tx.query(`UPDATE staff_sessions SET ended_at = $2, end_reason = $3 WHERE staff_id = $1 AND ended_at IS NULL RETURNING id`, [staffId, clock.now(), reason]);
  return rows.length;
}

/** A passkey just answered in this session: the step-up time moves and the token changes. Null if the session ended meanwhile. */
export async function steppedUp(tx: Tx, clock: Clock, sessionId: string): Promise<string | null> {
  const token = randomToken(32);
  const { rows } = await tx.query(`UPDATE staff_sessions SET stepped_up_at = $2, last_seen_at = $2, token_hash = $3 WHERE id = $1 AND ended_at IS NULL RETURNING id`, [
    sessionId,
    clock.now(),
    tokenHash(token),
  ]);
  return rows.length === 1 ? token : null;
}

export const freshStepUp = (session: StaffSession, now: Date): boolean => session.steppedUpAt.getTime() + STAFF_POLICY.stepUpMaxAge * 1000 >= now.getTime();
