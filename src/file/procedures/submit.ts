import { newId } from '../../crypto/random.ts';
import type { Tx } from '../../db/contexts.ts';
import type { JsonValue, ProcedureKind, ProcedureValue } from '../catalogue.ts';
import { appendEvent, type FileDeps, type Level } from '../events.ts';
import { newReference } from './reference.ts';

/**
 * Files a procedure: one `procedure.submitted` event, by the citizen, in their context. A
 * change of address also changes the file's postal address, in the same transaction, so the
 * two never disagree. References are random; one already taken (in any file: the database
 * function 016_procedures.sql answers) is drawn again. The unique constraint stays the
 * guarantee should two transactions draw the same one at the same instant.
 */

export interface Submission {
  accountId: string;
  sessionId: string;
  level: Level;
  kind: ProcedureKind;
  data: Record<string, JsonValue>;
  /** A certificate is produced on the spot: accepted at once. */
  status: 'submitted' | 'accepted';
  /** For a change of address: the new one-line postal address of the file. */
  newAddress?: string;
}

const ATTEMPTS = 5;

export class NoFreeReferenceError extends Error {
  override name = 'NoFreeReferenceError';
  constructor() {
    super(`no free procedure reference after ${ATTEMPTS} draws`);
  }
}

async function referenceTaken(tx: Tx, reference: string): Promise<boolean> {
  const { rows } = await tx.query<{ taken: boolean }>(`SELECT procedure_reference_taken($1) AS taken`, [reference]);
  return rows[0]?.taken !== false;
}

/** `reference` draws the references (tests make them clash on purpose). */
export async function submitProcedure(tx: Tx, deps: FileDeps, s: Submission, o: { reference?: (year: number) => string } = {}): Promise<{ id: string; reference: string }> {
  const draw = o.reference ?? newReference;
  const common = { accountId: s.accountId, actor: { kind: 'citizen', id: s.accountId }, sessionId: s.sessionId, level: s.level } as const;
  if (s.newAddress !== undefined) await appendEvent(tx, deps, { ...common, type: 'contact.address-changed', after: s.newAddress });

  const id = newId();
  const now = deps.clock.now();
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const reference = draw(now.getUTCFullYear());
    if (await referenceTaken(tx, reference)) continue;
    const after: ProcedureValue = { kind: s.kind, reference, status: s.status, submittedAt: now.toISOString(), data: s.data, note: null };
    await appendEvent(tx, deps, { ...common, type: 'procedure.submitted', key: id, after });
    return { id, reference };
  }
  throw new NoFreeReferenceError();
}
