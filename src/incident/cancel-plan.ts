import { CANCELLED, type ChangeType } from '../file/catalogue.ts';
import type { FileEvent } from '../file/events.ts';

/**
 * What `sesame incident cancel` does to one file, decided from its events alone (no I/O, so
 * the dry run and the applied run decide the same way):
 *
 * - selected: the changes citizens made in [from, to). Agency imports and operators' changes
 *   in the window are not the incident's doing and are left alone.
 * - already-cancelled: a selected change that a compensating event already undid (an earlier
 *   run of this command, or the citizen).
 * - conflict: a later event outside the selection (after `to`, or by the agency or an
 *   operator) set the same part (same contact field, the bank details, the same procedure):
 *   cancelling would overwrite it, so the change is reported instead, naming that event.
 * - cancel: everything else, undone newest first so that the value from before the window
 *   comes back (each compensation sets its part back to the cancelled change's `before`).
 *
 * A citizen's own cancellation in the window is itself left alone (a cancellation is never
 * cancelled) and listed apart.
 */

export type CancelAction = 'cancel' | 'conflict' | 'already-cancelled';

export interface PlannedChange {
  accountId: string;
  eventId: string;
  seq: number;
  type: ChangeType;
  occurredAt: Date;
  action: CancelAction;
  /** conflict: the first later event outside the selection that set the same part. */
  laterEventId?: string;
  /** already-cancelled: the compensating event that undid it. */
  cancelledBy?: string;
}

export interface CitizenCancellation {
  accountId: string;
  eventId: string;
  occurredAt: Date;
  /** The change that citizen undid. */
  cancels: string;
}

export interface AccountPlan {
  /** In the order of the file. */
  changes: PlannedChange[];
  leftAlone: CitizenCancellation[];
}

export interface Window {
  from: Date;
  to: Date;
}

const inWindow = (e: FileEvent, w: Window): boolean =>
  e.actor.kind === 'citizen' && e.occurredAt.getTime() >= w.from.getTime() && e.occurredAt.getTime() < w.to.getTime();

const samePart = (a: FileEvent, b: FileEvent): boolean => a.effect.part === b.effect.part && a.effect.key === b.effect.key;

export function planAccount(events: readonly FileEvent[], w: Window): AccountPlan {
  const selected = new Set(events.filter((e) => e.type !== CANCELLED && inWindow(e, w)).map((e) => e.id));
  const cancelledBy = new Map<string, string>();
  for (const e of events) if (e.cancels) cancelledBy.set(e.cancels, e.id);
  // Events that are the incident's own doing or its undoing: none of them is a conflict.
  const ours = (e: FileEvent): boolean => inWindow(e, w) || (e.cancels !== null && selected.has(e.cancels));

  const changes: PlannedChange[] = [];
  const leftAlone: CitizenCancellation[] = [];
  for (const e of events) {
    if (!inWindow(e, w)) continue;
    if (e.type === CANCELLED) {
      if (e.cancels) leftAlone.push({ accountId: e.accountId, eventId: e.id, occurredAt: e.occurredAt, cancels: e.cancels });
      continue;
    }
    const base = { accountId: e.accountId, eventId: e.id, seq: e.seq, type: e.type, occurredAt: e.occurredAt };
    const undoneBy = cancelledBy.get(e.id);
    if (undoneBy) {
      changes.push({ ...base, action: 'already-cancelled', cancelledBy: undoneBy });
      continue;
    }
    const later = events.find((l) => l.seq > e.seq && samePart(l, e) && !ours(l));
    changes.push(later ? { ...base, action: 'conflict', laterEventId: later.id } : { ...base, action: 'cancel' });
  }
  return { changes, leftAlone };
}

/** The changes to cancel, newest first: each one's compensation then restores the value the one before it replaced. */
export const cancellationOrder = (plan: AccountPlan): PlannedChange[] => plan.changes.filter((c) => c.action === 'cancel').sort((a, b) => b.seq - a.seq);
