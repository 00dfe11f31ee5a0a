import type { Tx } from '../../db/contexts.ts';
import type { ProcedureStatus, ProcedureValue } from '../catalogue.ts';
import { appendEvent, lockFile, type Actor, type FileDeps } from '../events.ts';
import { findProcedureByReference, readProcedure } from '../projections/procedures.ts';
import { canMoveTo, NEXT_STATUSES, type AgencyDecision } from './catalogue.ts';

/**
 * The agency's decisions on a procedure (`sesame procedures status`): a
 * `procedure.status-changed` event in a system context, by the agency or an operator, along
 * the allowed moves only. Errors name the rule, never the citizen.
 */

export class UnknownProcedureError extends Error {
  override name = 'UnknownProcedureError';
  constructor() {
    super('no procedure with this reference');
  }
}

export class StatusTransitionError extends Error {
  override name = 'StatusTransitionError';
  constructor(from: ProcedureStatus, to: AgencyDecision) {
    const allowed = NEXT_STATUSES[from];
    super(`a procedure ${from} cannot become ${to}${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ' (its status is final)'}`);
  }
}

export interface StatusChange {
  reference: string;
  status: AgencyDecision;
  note: string | null;
  actor: Actor;
}

export async function changeProcedureStatus(tx: Tx, deps: FileDeps, change: StatusChange): Promise<{ id: string; accountId: string; from: ProcedureStatus; to: AgencyDecision }> {
  const found = await findProcedureByReference(tx, change.reference);
  if (!found) throw new UnknownProcedureError();
  const row = { id: found.id, account_id: found.accountId };
  // Two decisions at once: the second reads the first's result, and the moves are checked on it.
  await lockFile(tx, row.account_id);
  const current = await readProcedure(tx, deps.ring, row.account_id, row.id);
  if (!current) throw new UnknownProcedureError();
  if (!canMoveTo(current.status, change.status)) throw new StatusTransitionError(current.status, change.status);
  const before: ProcedureValue = { kind: current.kind, reference: current.reference, status: current.status, submittedAt: current.submittedAt, data: current.data, note: current.note };
  await appendEvent(tx, deps, {
    type: 'procedure.status-changed',
    accountId: row.account_id,
    actor: change.actor,
    sessionId: null,
    level: null,
    key: row.id,
    before,
    after: { ...before, status: change.status, note: change.note },
  });
  return { id: row.id, accountId: row.account_id, from: current.status, to: change.status };
}
