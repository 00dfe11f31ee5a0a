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
 * it records does. The events of one transaction are written together, in order, just before
 * it commits: one statement, sent with the COMMIT, and the chain's lock (taken by the database
 * trigger, which computes seq, prev_hash and hash) held only from there to the commit.
 */
export async function audit(tx: Tx, clock: Clock, event: AuditEvent, operator?: string): Promise<void> {
  let rows = pending.get(tx);
  if (!rows) {
    const queued: unknown[][] = [];
    pending.set(tx, (rows = queued));
    tx.beforeCommit(() => writeEvents(tx, queued));
  }
  rows.push([clock.now(), event.type, event.accountId, actorOf(tx, operator), event.requestId ?? null, JSON.stringify(event.payload)]);
}

const pending = new WeakMap<Tx, unknown[][]>();

function writeEvents(tx: Tx, rows: unknown[][]): void {
  const values = rows.map((_, i) => `($${i * 6 + 1}, $${i * 6 + 2}, $${i * 6 + 3}, $${i * 6 + 4}, $${i * 6 + 5}, $${i * 6 + 6}, 0, ''::bytea, ''::bytea)`);
  tx.send(
    `INSERT INTO audit_log (occurred_at, type, account_id, actor, request_id, payload, seq, prev_hash, hash) VALUES ${values.join(', ')}`,
    rows.flat(),
  );
}
