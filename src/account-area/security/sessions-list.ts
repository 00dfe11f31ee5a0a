import { accountCipher } from '../../accounts/account-keys.ts';
import type { AuthPolicy } from '../../auth/policy.ts';
import { endOtherSessions, endSession } from '../../auth/sessions.ts';
import type { Level } from '../../auth/levels.ts';
import type { Clock } from '../../clock.ts';
import { DecryptionError, type FieldCipher } from '../../crypto/envelope.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import type { Tx } from '../../db/contexts.ts';
import { describeUserAgent } from '../../web/user-agent.ts';

/** One live session as the security page shows it: the browser, never the address. */
export interface SessionSummary {
  id: string;
  level: Level;
  createdAt: Date;
  lastSeenAt: Date;
  browser: string | null;
  os: string | null;
  current: boolean;
}

interface Row extends Record<string, unknown> {
  id: string;
  level: Level;
  created_at: Date;
  last_seen_at: Date;
  client: Uint8Array;
}

/** The browser and system of a session's client, decrypted; unknown if it does not decrypt. */
function deviceOf(cipher: FieldCipher | null, sessionId: string, blob: Uint8Array): { browser: string | null; os: string | null } {
  if (!cipher) return { browser: null, os: null };
  try {
    const client = cipher.decryptJson(`session:${sessionId}`, Buffer.from(blob));
    const userAgent = typeof client === 'object' && client !== null ? (client as { userAgent?: unknown }).userAgent : undefined;
    return describeUserAgent(typeof userAgent === 'string' ? userAgent : undefined);
  } catch (err) {
    if (err instanceof DecryptionError || err instanceof SyntaxError) return { browser: null, os: null };
    throw err;
  }
}

/**
 * The account's live sessions, the current one first, then the most recently used. Runs in
 * the citizen context: row-level security shows this account's sessions and no other. A
 * session past its idle or absolute limit is left out even before anyone marks it ended.
 */
export async function listSessions(
  tx: Tx,
  deps: { ring: KeyRing; clock: Clock; policy: AuthPolicy },
  accountId: string,
  currentSessionId: string,
): Promise<SessionSummary[]> {
  const now = deps.clock.now();
  const idleSince = new Date(now.getTime() - deps.policy.sessionIdle * 1000);
  const { rows } = await tx.query<Row>(
    `SELECT id, level, created_at, last_seen_at, client FROM sessions
      WHERE account_id = $1 AND ended_at IS NULL AND expires_at > $2 AND last_seen_at > $3
      ORDER BY (id = $4::uuid) DESC, last_seen_at DESC, created_at DESC`,
    [accountId, now, idleSince, currentSessionId],
  );
  const cipher = rows.length > 0 ? await accountCipher(tx, deps.ring, accountId) : null;
  return rows.map((r) => ({
    id: r.id,
    level: r.level,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    ...deviceOf(cipher, r.id, r.client),
    current: r.id === currentSessionId,
  }));
}

/**
 * Whether the session is still live, its row locked until the end of the transaction: a
 * change made in its name waits for, or loses to, a concurrent "end my other sessions".
 */
export async function sessionStillLive(tx: Tx, sessionId: string): Promise<boolean> {
  const { rows } = await tx.query(`SELECT id FROM sessions WHERE id = $1 AND ended_at IS NULL FOR UPDATE`, [sessionId]);
  return rows.length === 1;
}

/** "Déconnecter mes autres sessions": every session of the account but this one ends. */
export async function endMyOtherSessions(tx: Tx, clock: Clock, input: { accountId: string; sessionId: string; requestId: string }): Promise<number> {
  if (!(await sessionStillLive(tx, input.sessionId))) return 0;
  return endOtherSessions(tx, clock, input.accountId, input.sessionId, 'ended-by-citizen', input.requestId);
}

/** Ends one other live session of the account; false when there is none by that id here (RLS hides other accounts'). */
export async function endMySession(tx: Tx, clock: Clock, input: { accountId: string; sessionId: string; target: string; requestId: string }): Promise<boolean> {
  if (!(await sessionStillLive(tx, input.sessionId))) return false;
  const { rows } = await tx.query(`SELECT id FROM sessions WHERE id = $1 AND account_id = $2 AND ended_at IS NULL FOR UPDATE`, [input.target, input.accountId]);
  if (rows.length !== 1) return false;
  await endSession(tx, clock, { id: input.target, accountId: input.accountId }, 'ended-by-citizen', input.requestId);
  return true;
}
