import type { Tx } from '../db/contexts.ts';

/**
 * The security events of the last days that the overview points out, read from the account's
 * own audit rows (row-level security shows no other account's): ways to log in added or
 * removed, a login from a browser never seen on this account, a change of password. Payloads
 * hold ids and codes only, so nothing here is personal beyond the fact itself.
 */

export const ALERT_EVENT_TYPES = ['authenticator.added', 'authenticator.removed', 'login.new-browser', 'password.changed'] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];
export type AuthenticatorKindCode = 'passkey' | 'totp' | 'device';

export interface SecurityEvent {
  type: AlertEventType;
  at: Date;
  /** For authenticator events: which kind. */
  kind: AuthenticatorKindCode | null;
}

export const RECENT_DAYS = 30;
const SHOWN = 5;
// Constants of this module, not input: inlined as SQL literals.
const TYPES_SQL = ALERT_EVENT_TYPES.map((type) => `'${type}'`).join(', ');

export async function recentSecurityEvents(tx: Tx, accountId: string, now: Date): Promise<SecurityEvent[]> {
  const since = new Date(now.getTime() - RECENT_DAYS * 24 * 3600 * 1000);
  const { rows } = await tx.query<{ type: AlertEventType; occurred_at: Date; kind: string | null }>(
    `SELECT type, occurred_at, payload->>'kind' AS kind FROM audit_log
      WHERE account_id = $1 AND type IN (${TYPES_SQL}) AND occurred_at >= $2
      ORDER BY seq DESC LIMIT ${SHOWN}`,
    [accountId, since],
  );
  return rows.map((r) => ({ type: r.type, at: r.occurred_at, kind: r.kind === 'passkey' || r.kind === 'totp' || r.kind === 'device' ? r.kind : null }));
}
