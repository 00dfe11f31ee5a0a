import { audit } from '../audit/log.ts';
import { revokeCancelCode } from '../account-area/bank-details/cancel-code.ts';
import { system, type Tx } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import { cancelEvent, lockFile, readEvents, type FileDeps } from '../file/events.ts';
import { cancellationOrder, planAccount, type CitizenCancellation, type PlannedChange, type Window } from './cancel-plan.ts';
import { latestCohort } from './cohort-store.ts';
import { recordStep, resolveIncident, type Incident, type IncidentActor } from './incidents.ts';

/**
 * `sesame incident cancel`: undoes every change citizens made to their files in a window,
 * with compensating events by the operator that name the incident (DESIGN principle 7).
 * Accounts go in batches, one transaction each, in account id order; each account is planned
 * under the lock appendEvent takes (so a citizen's change at the same moment lands either
 * before, and is then seen as a conflict, or after the batch). A run decides from the events
 * alone, so a second run finds the first one's work as `already-cancelled`, and a run killed
 * halfway is finished by running it again.
 */

export const DEFAULT_BATCH_SIZE = 100;

export interface CancelOptions extends Window {
  /** Only the accounts of the incident's newest saved cohort. */
  cohort: boolean;
  batchSize: number;
  apply: boolean;
  by: IncidentActor;
  /** Told after each committed batch (applied runs only). */
  afterBatch?: (b: { batch: number; cancelled: number; conflicts: number }) => void;
}

export interface CancelCounts {
  cancel: number;
  conflict: number;
  alreadyCancelled: number;
  leftAlone: number;
}

export interface CancelReport {
  incident: Incident;
  cohortId: string | null;
  accounts: number;
  batches: number;
  /** In account id order, then in the order of each file. */
  changes: (PlannedChange & { cancellationId?: string })[];
  leftAlone: CitizenCancellation[];
  counts: CancelCounts;
}

export class NoCohortError extends Error {
  override name = 'NoCohortError';
  constructor(reference: string) {
    super(`${reference} has no saved cohort: compute one with \`sesame incident cohort --from … --to … --apply\``);
  }
}

const ACTOR_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/** The operator's login as a file event's actor id (as `sesame procedures status` does: odd characters replaced, not refused). */
export const operatorActorId = (name: string): string => (ACTOR_ID.test(name) ? name : `op-${name.replace(/[^A-Za-z0-9._:@-]/g, '_')}`.slice(0, 128));

/** The accounts with a citizen's change in the window (only the cohort's, with --cohort), in id order. */
async function accountsToVisit(tx: Tx, w: Window, only: readonly string[] | null): Promise<string[]> {
  const { rows } = await tx.query<{ account_id: string }>(
    `SELECT DISTINCT account_id FROM file_events
      WHERE occurred_at >= $1 AND occurred_at < $2 AND actor_kind = 'citizen' ${only ? 'AND account_id = ANY($3::uuid[])' : ''}
      ORDER BY account_id`,
    only ? [w.from, w.to, only] : [w.from, w.to],
  );
  return rows.map((r) => r.account_id);
}

/** One account: planned, and when applying, its changes cancelled newest first and every outcome audited. */
async function visitAccount(tx: Tx, deps: FileDeps, incident: Incident, o: CancelOptions, accountId: string): Promise<{ changes: CancelReport['changes']; leftAlone: CitizenCancellation[] }> {
  if (o.apply) await lockFile(tx, accountId);
  // Empty when the account's key was shredded: nothing left to undo.
  const plan = planAccount(await readEvents(tx, deps.ring, accountId), o);
  if (!o.apply) return plan;
  const operator = o.by.name;
  const done = new Map<string, string>();
  for (const change of cancellationOrder(plan)) {
    const cancellation = await cancelEvent(tx, deps, {
      accountId,
      actor: { kind: 'operator', id: operatorActorId(operator) },
      sessionId: null,
      level: null,
      eventId: change.eventId,
      incident: incident.reference,
    });
    // Restored details take effect at once: no hold (the hold protects a citizen from a
    // change they did not make; this one puts back what they had). A held change's mailed
    // cancellation code is of no more use.
    if (change.type === 'bank-details.changed') revokeCancelCode(tx, deps.clock, change.eventId);
    done.set(change.eventId, cancellation.id);
    await audit(tx, deps.clock, { type: 'incident.change-cancelled', accountId, payload: { incidentId: incident.id, eventId: change.eventId, cancellationId: cancellation.id } }, operator);
  }
  for (const c of plan.changes) {
    if (c.action === 'conflict' && c.laterEventId) {
      await audit(tx, deps.clock, { type: 'incident.change-conflict', accountId, payload: { incidentId: incident.id, eventId: c.eventId, laterEventId: c.laterEventId } }, operator);
    }
  }
  return { changes: plan.changes.map((c) => (done.has(c.eventId) ? { ...c, cancellationId: done.get(c.eventId) } : c)), leftAlone: plan.leftAlone };
}

export async function cancelIncidentChanges(db: Database, deps: FileDeps, reference: string | undefined, o: CancelOptions): Promise<CancelReport> {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const { incident, cohortId, accounts } = await system(db, 'incident:cancel', async (tx) => {
    const incident = await resolveIncident(tx, reference);
    if (!o.cohort) return { incident, cohortId: null, accounts: await accountsToVisit(tx, o, null) };
    const cohort = await latestCohort(tx, incident);
    if (!cohort) throw new NoCohortError(incident.reference);
    return { incident, cohortId: cohort.id, accounts: await accountsToVisit(tx, o, cohort.members.map((m) => m.accountId)) };
  });

  const report: CancelReport = { incident, cohortId, accounts: accounts.length, batches: 0, changes: [], leftAlone: [], counts: { cancel: 0, conflict: 0, alreadyCancelled: 0, leftAlone: 0 } };
  for (let i = 0; i < accounts.length; i += o.batchSize) {
    const batch = accounts.slice(i, i + o.batchSize);
    const visited = await system(db, 'incident:cancel', async (tx) => {
      const out: Awaited<ReturnType<typeof visitAccount>>[] = [];
      for (const accountId of batch) out.push(await visitAccount(tx, deps, incident, o, accountId));
      return out;
    });
    report.batches++;
    let cancelled = 0;
    let conflicts = 0;
    for (const v of visited) {
      report.changes.push(...v.changes);
      report.leftAlone.push(...v.leftAlone);
      cancelled += v.changes.filter((c) => c.action === 'cancel').length;
      conflicts += v.changes.filter((c) => c.action === 'conflict').length;
    }
    if (o.apply) o.afterBatch?.({ batch: report.batches, cancelled, conflicts });
  }
  for (const c of report.changes) {
    if (c.action === 'cancel') report.counts.cancel++;
    else if (c.action === 'conflict') report.counts.conflict++;
    else report.counts.alreadyCancelled++;
  }
  report.counts.leftAlone = report.leftAlone.length;

  // One step per run, dry runs included (after the batches: a run killed halfway leaves its
  // per-change audit events, and the run that finishes the work records the step).
  await system(db, 'incident:cancel', (tx) =>
    recordStep(tx, deps.clock, incident, {
      kind: 'cancel',
      by: o.by,
      applied: o.apply,
      summary: {
        from: o.from.toISOString(),
        to: o.to.toISOString(),
        cohort: o.cohort,
        cohortId,
        batchSize: o.batchSize,
        accounts: report.accounts,
        batches: report.batches,
        cancelled: report.counts.cancel,
        conflicts: report.counts.conflict,
        alreadyCancelled: report.counts.alreadyCancelled,
        citizenCancellations: report.counts.leftAlone,
      },
    }),
  );
  return report;
}
