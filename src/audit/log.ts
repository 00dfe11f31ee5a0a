import type { Clock } from '../clock.ts';
import type { Tx } from '../db/contexts.ts';
import type { AuditEvent } from './catalogue.ts';

/** Who acted, from the context the transaction runs in. */
export function actorOf(tx: Tx, operator?: string): string {
  if (operator) return `operator:${operator}`;
  return tx.context.kind === 'citizen' ? `citizen:${tx.context.accountId}` : `system:${tx.context.reason}`;
}

/**
 * Appends an event in the caller's transaction, so the event exists if and only if the change
 * it records does. The chain (seq, prev_hash, hash) is computed by the database trigger.
 */
export async function audit(tx: Tx, clock: Clock, event: AuditEvent, operator?: string): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (occurred_at, type, account_id, actor, request_id, payload, seq, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, 0, ''::bytea, ''::bytea)`,
    [clock.now(), event.type, event.accountId, actorOf(tx, operator), event.requestId ?? null, JSON.stringify(event.payload)],
  );
}
