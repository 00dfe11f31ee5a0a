import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Tx } from '../db/contexts.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import { newId, randomToken } from '../crypto/random.ts';
import { accountCipher } from '../accounts/account-keys.ts';
import { audit } from '../audit/log.ts';
import type { SessionEndReason } from '../audit/catalogue.ts';
import type { Level } from './levels.ts';
import { endAccountFederation } from '../oidc/account-state.ts';
import type { AuthPolicy } from './policy.ts';

/**
 * Sessions: a 256-bit random token in the cookie, only its SHA-256 in the database (a dump
 * or a read-only SQL injection yields no usable session). A new token at every login, so a
 * token planted before login (fixation) never becomes authenticated.
 */
export interface Session {
  id: string;
  accountId: string;
  level: Level;
  amr: string[];
  authTime: Date;
  /** When the level starts to count for sensitive operations (the cooling-off of the authenticator that gave it); null: at once. */
  sensitiveFrom: Date | null;
  /** When an email code last confirmed the citizen in this session (at login, or asked again since). */
  emailCodeAt: Date | null;
  /**
   * The NIR blind index typed at login (the account's own index for a passkey-only login):
   * the identity tripwire proves on every request that it still names session.accountId.
   */
  loginNirIndex: Uint8Array;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

export interface SessionClient {
  ip: string;
  userAgent: string | null;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const tokenHash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** last_seen_at is written at most this often: reading a page should not always cost a write. */
const TOUCH_EVERY_MS = 60_000;

export async function startSession(
  tx: Tx,
  deps: { ring: KeyRing; clock: Clock; policy: AuthPolicy },
  input: {
    accountId: string;
    level: Level;
    amr: string[];
    authTime: Date;
    sensitiveFrom?: Date | null;
    emailCodeAt?: Date | null;
    client: SessionClient;
    requestId?: string;
    /** The NIR blind index typed at login; absent (passkey-only login): the account's own, read now. */
    loginNirIndex?: Uint8Array;
    /** The strong authenticator that gave the level, if one did: removing it ends the session. */
    raisedBy?: string | null;
  },
): Promise<{ token: string; session: Session }> {
  const { ring, clock, policy } = deps;
  const [cipher, loginNirIndex] = await Promise.all([accountCipher(tx, ring, input.accountId), input.loginNirIndex ?? accountNirIndex(tx, input.accountId)]);
  if (!cipher) throw new Error('cannot start a session: the account has no data key');
  if (!loginNirIndex) throw new Error('cannot start a session: the account has no login identifier');
  const id = newId();
  const token = randomToken(32);
  const now = clock.now();
  const expiresAt = new Date(now.getTime() + policy.sessionAbsolute * 1000);
  tx.send(
    `INSERT INTO sessions (id, account_id, token_hash, level, amr, auth_time, client, created_at, last_seen_at, expires_at, sensitive_from, email_code_at, login_nir_index, raised_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12, $13::uuid[])`,
    [id, input.accountId, tokenHash(token), input.level, input.amr, input.authTime, cipher.encryptJson(`session:${id}`, input.client), now, expiresAt, input.sensitiveFrom ?? null, input.emailCodeAt ?? null, loginNirIndex, input.raisedBy ? [input.raisedBy] : []],
  );
  await audit(tx, clock, { type: 'session.started', accountId: input.accountId, requestId: input.requestId, payload: { sessionId: id, level: input.level, amr: input.amr } });
  const session: Session = {
    id,
    accountId: input.accountId,
    level: input.level,
    amr: input.amr,
    authTime: input.authTime,
    sensitiveFrom: input.sensitiveFrom ?? null,
    emailCodeAt: input.emailCodeAt ?? null,
    loginNirIndex,
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
  };
  return { token, session };
}

async function accountNirIndex(tx: Tx, accountId: string): Promise<Uint8Array | null> {
  const { rows } = await tx.query<{ nir_index: Uint8Array }>(`SELECT nir_index FROM accounts WHERE id = $1`, [accountId]);
  return rows[0]?.nir_index ?? null;
}

interface SessionRow extends Record<string, unknown> {
  id: string;
  account_id: string;
  level: Level;
  amr: string[];
  auth_time: Date;
  sensitive_from: Date | null;
  email_code_at: Date | null;
  login_nir_index: Uint8Array | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  ended_at: Date | null;
}

/**
 * The live session for a cookie token, or null. A session past its idle or absolute limit
 * is ended on the spot (and audited), so that the database says what the cookie no longer can.
 */
export async function resolveSession(tx: Tx, deps: { clock: Clock; policy: AuthPolicy }, token: string | undefined): Promise<Session | null> {
  if (token === undefined || !TOKEN.test(token)) return null;
  const { clock, policy } = deps;
  const { rows } = await tx.query<SessionRow>(
    // An account locked or closed (by an operator, by the kill switch) has no live session.
    `SELECT s.id, s.account_id, s.level, s.amr, s.auth_time, s.sensitive_from, s.email_code_at, s.login_nir_index, s.created_at, s.last_seen_at, s.expires_at, s.ended_at
       FROM sessions s JOIN accounts a ON a.id = s.account_id AND a.status = 'active' WHERE s.token_hash = $1`,
    [tokenHash(token)],
  );
  const row = rows[0];
  // No login identifier (a session from before it was recorded): not a session the tripwire can vouch for.
  if (!row || row.ended_at !== null || row.login_nir_index === null) return null;
  const now = clock.now().getTime();
  const idle = row.last_seen_at.getTime() + policy.sessionIdle * 1000 <= now;
  const expired = row.expires_at.getTime() <= now;
  if (idle || expired) {
    await endSession(tx, clock, { id: row.id, accountId: row.account_id }, expired ? 'expired' : 'idle');
    return null;
  }
  let lastSeenAt = row.last_seen_at;
  if (now - lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    lastSeenAt = new Date(now);
    tx.send(`UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND ended_at IS NULL`, [row.id, lastSeenAt]);
  }
  return {
    id: row.id,
    accountId: row.account_id,
    level: row.level,
    amr: row.amr,
    authTime: row.auth_time,
    sensitiveFrom: row.sensitive_from,
    emailCodeAt: row.email_code_at,
    loginNirIndex: row.login_nir_index,
    createdAt: row.created_at,
    lastSeenAt,
    expiresAt: row.expires_at,
  };
}

/**
 * A new token for a live session, the old one dead at once: after a change of password, a
 * copy of the cookie taken before it no longer works. Needs a system context (citizens may
 * not write token hashes).
 */
export async function rotateSessionToken(tx: Tx, sessionId: string): Promise<string | null> {
  const token = randomToken(32);
  const { rows } = await tx.query(`UPDATE sessions SET token_hash = $2 WHERE id = $1 AND ended_at IS NULL RETURNING id`, [sessionId, tokenHash(token)]);
  return rows.length === 1 ? token : null;
}

export async function endSession(tx: Tx, clock: Clock, session: { id: string; accountId: string }, reason: SessionEndReason, requestId?: string): Promise<void> {
  const { rows } = await tx.query(`UPDATE sessions SET ended_at = $2, end_reason = $3 WHERE id = $1 AND ended_at IS NULL RETURNING id`, [session.id, clock.now(), reason]);
  if (rows.length === 1) await audit(tx, clock, { type: 'session.ended', accountId: session.accountId, requestId, payload: { sessionId: session.id, reason } });
}

/**
 * Ends the live session a browser's cookie token names, if any (in the caller's transaction:
 * a new login in that browser replaces it). Nothing happens for an unknown or ended token.
 */
export async function endSessionOfToken(tx: Tx, clock: Clock, token: string, reason: SessionEndReason, requestId?: string): Promise<void> {
  const { rows } = await tx.query<{ id: string; account_id: string }>(
    `UPDATE sessions SET ended_at = $2, end_reason = $3 WHERE token_hash = $1 AND ended_at IS NULL RETURNING id, account_id`,
    [tokenHash(token), clock.now(), reason],
  );
  const row = rows[0];
  if (row) await audit(tx, clock, { type: 'session.ended', accountId: row.account_id, requestId, payload: { sessionId: row.id, reason } });
}

/**
 * Ends every live session of the account but `keep` (the one asking, if any), and what services
 * were given from any of them (the provider's sessions, grants and tokens of the account: which
 * session a token came from is not kept, and whoever was in may have signed in to a service).
 */
export async function endOtherSessions(tx: Tx, clock: Clock, accountId: string, keep: string | null, reason: SessionEndReason, requestId?: string): Promise<number> {
  const [{ rows }, serviceRows] = await Promise.all([
    tx.query(
      `UPDATE sessions SET ended_at = $3, end_reason = $4 WHERE account_id = $1 AND ended_at IS NULL AND ($2::uuid IS NULL OR id <> $2::uuid) RETURNING id`,
      [accountId, keep, clock.now(), reason],
    ),
    endAccountFederation(tx, accountId),
  ]);
  if (rows.length > 0 || serviceRows > 0) await audit(tx, clock, { type: 'sessions.ended', accountId, requestId, payload: { count: rows.length, reason, kept: keep, serviceRows } });
  return rows.length;
}

/**
 * Removing an authenticator: every live session of the account that it raised (at login or at
 * any step-up since, raised_by) ends, this one included. What is left of such a session is not
 * a level: the authenticator was the strong part of it, and a password without its second
 * factor, or a passkey's session without the passkey, proves nothing. Sessions it did not raise
 * are untouched. Returns whether `current` was among them (its cookie is then dead).
 */
export async function endSessionsRaisedBy(
  tx: Tx,
  clock: Clock,
  o: { accountId: string; authenticatorId: string; current: string | null; keepCurrent?: boolean; requestId?: string },
): Promise<{ count: number; currentEnded: boolean }> {
  const spared = o.keepCurrent === true ? o.current : null;
  const [{ rows }, serviceRows] = await Promise.all([
    tx.query<{ id: string }>(
      `UPDATE sessions SET ended_at = $3, end_reason = 'authenticator-removed'
        WHERE account_id = $1 AND ended_at IS NULL AND $2::uuid = ANY (raised_by) AND ($4::uuid IS NULL OR id <> $4::uuid) RETURNING id`,
      [o.accountId, o.authenticatorId, clock.now(), spared],
    ),
    // What services were given from those sessions goes too (see endOtherSessions).
    endAccountFederation(tx, o.accountId),
  ]);
  const currentEnded = o.current !== null && rows.some((r) => r.id === o.current);
  if (rows.length > 0 || serviceRows > 0) {
    await audit(tx, clock, {
      type: 'sessions.ended',
      accountId: o.accountId,
      requestId: o.requestId,
      payload: { count: rows.length, reason: 'authenticator-removed', kept: currentEnded ? null : o.current, serviceRows },
    });
  }
  return { count: rows.length, currentEnded };
}

/**
 * Step-up: the session takes the level the citizen just proved, with a new auth time. The
 * only way a session rises; it never goes above what a flow's methods gave (levelOf). It also
 * gets a new token: a cookie copied before the step-up does not gain the level. The
 * authenticator used joins those that raised the session (never forgotten: removing any of
 * them ends it). Null if the session ended meanwhile.
 */
export async function raiseSession(
  tx: Tx,
  sessionId: string,
  o: { level: Level; amr: string[]; authTime: Date; sensitiveFrom: Date | null; raisedBy?: string | null },
): Promise<string | null> {
  const token = randomToken(32);
  const { rows } = await tx.query(
    `UPDATE sessions SET level = $2, amr = $3, auth_time = $4, sensitive_from = $5, token_hash = $6,
            raised_by = CASE WHEN $7::uuid IS NULL OR $7::uuid = ANY (raised_by) THEN raised_by ELSE array_append(raised_by, $7::uuid) END
      WHERE id = $1 AND ended_at IS NULL RETURNING id`,
    [sessionId, o.level, o.amr, o.authTime, o.sensitiveFrom, tokenHash(token), o.raisedBy ?? null],
  );
  return rows.length === 1 ? token : null;
}

/** A fresh email code confirmed the citizen in this session (re-authentication). */
export function recordEmailCode(tx: Tx, sessionId: string, at: Date): void {
  tx.send(`UPDATE sessions SET email_code_at = $2 WHERE id = $1 AND ended_at IS NULL`, [sessionId, at]);
}
