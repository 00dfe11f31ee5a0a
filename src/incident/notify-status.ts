import type { Tx } from '../db/contexts.ts';
import type { Incident } from './incidents.ts';

/**
 * `incident notify --status`: where each notice of the incident is, from the outbox row it was
 * queued as (the worker's delivery state). Account ids and states only: never an address.
 */
export type NoticeState = 'queued' | 'sent' | 'failed';

export interface NoticeStatus {
  accountId: string;
  template: string;
  state: NoticeState;
  attempts: number;
  queuedAt: Date;
  sentAt: Date | null;
  /** A class such as 'smtp-550' or 'connection' (the outbox keeps nothing else). */
  lastError: string | null;
}

export async function noticeStatuses(tx: Tx, incident: Incident): Promise<NoticeStatus[]> {
  const { rows } = await tx.query<{ account_id: string; template: string; queued_at: Date; status: string | null; attempts: number | null; sent_at: Date | null; last_error: string | null }>(
    `SELECT n.account_id, n.template, n.queued_at, o.status, o.attempts, o.sent_at, o.last_error
       FROM incident_notifications n LEFT JOIN outbox o ON o.id = n.message_id
      WHERE n.incident_id = $1 ORDER BY n.template, n.account_id`,
    [incident.id],
  );
  return rows.map((r) => ({
    accountId: r.account_id,
    template: r.template,
    // No outbox row: the account was deleted, and its mail with it.
    state: r.status === 'sent' ? 'sent' : r.status === 'pending' ? 'queued' : 'failed',
    attempts: r.attempts ?? 0,
    queuedAt: r.queued_at,
    sentAt: r.sent_at,
    lastError: r.status === null ? 'account-deleted' : r.last_error,
  }));
}

export function countStates(statuses: readonly NoticeStatus[]): Record<NoticeState, number> {
  const counts: Record<NoticeState, number> = { queued: 0, sent: 0, failed: 0 };
  for (const s of statuses) counts[s.state]++;
  return counts;
}
