import { PROCEDURE_KINDS, type ProcedureKind, type ProcedureStatus } from '../catalogue.ts';

/**
 * The procedures a citizen can file, and what the agency may decide about them. The values
 * themselves (kind, status, reference, data) are typed by src/file/catalogue.ts; each kind's
 * form data is validated by its module here (address-change.ts, income-declaration.ts,
 * payment-certificate.ts).
 */

export { PROCEDURE_KINDS, type ProcedureKind, type ProcedureStatus };

export const isProcedureKind = (value: string): value is ProcedureKind => (PROCEDURE_KINDS as readonly string[]).includes(value);

/** The statuses the agency sets (`cancelled` only comes from cancelling the submission: an incident). */
export const AGENCY_DECISIONS = ['in-review', 'accepted', 'rejected'] as const satisfies readonly ProcedureStatus[];
export type AgencyDecision = (typeof AGENCY_DECISIONS)[number];
export const isAgencyDecision = (value: string): value is AgencyDecision => (AGENCY_DECISIONS as readonly string[]).includes(value);

/** Allowed moves: forward only; a decision (accepted, rejected) and a cancellation are final. */
export const NEXT_STATUSES: Readonly<Record<ProcedureStatus, readonly AgencyDecision[]>> = {
  submitted: ['in-review', 'accepted', 'rejected'],
  'in-review': ['accepted', 'rejected'],
  accepted: [],
  rejected: [],
  cancelled: [],
};

export const canMoveTo = (from: ProcedureStatus, to: AgencyDecision): boolean => NEXT_STATUSES[from].includes(to);

/** A procedure that still stands (it counts, e.g., as the declaration of its quarter). */
export const stillStands = (status: ProcedureStatus): boolean => status !== 'rejected' && status !== 'cancelled';
