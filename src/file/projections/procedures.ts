import type { Tx } from '../../db/contexts.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import { accountCipher } from '../../accounts/account-keys.ts';
import type { ProcedureValue } from '../catalogue.ts';
import { decodeEntry, keyedProjection, type EntryRow, type KeyedSpec } from './keyed.ts';

/** Procedures projection (file_procedures): one row per procedure, newest first when listed. */

const SPEC: KeyedSpec<'procedure'> = {
  part: 'procedure',
  table: 'file_procedures',
  columns: ['reference', 'kind', 'status', 'submitted_at'],
  clear: (v) => [v.reference, v.kind, v.status, v.submittedAt],
};

export const { current, apply, rebuild } = keyedProjection(SPEC);

export type ProcedureView = ProcedureValue & { id: string; accountId: string; version: number; updatedAt: Date };

const COLUMNS = `id, account_id, payload, version::text AS version, updated_at`;

async function decodeAll(tx: Tx, ring: KeyRing, accountId: string, rows: EntryRow[]): Promise<ProcedureView[]> {
  if (rows.length === 0) return [];
  const cipher = await accountCipher(tx, ring, accountId);
  if (!cipher) return [];
  return rows.map((row) => {
    const e = decodeEntry(SPEC, cipher, row);
    return { ...e.value, id: e.id, accountId: e.accountId, version: e.version, updatedAt: e.updatedAt };
  });
}

/** The account's procedures, newest first (`limit` for the overview). */
export async function listProcedures(tx: Tx, ring: KeyRing, accountId: string, limit = 1000): Promise<ProcedureView[]> {
  const { rows } = await tx.query<EntryRow>(
    `SELECT ${COLUMNS} FROM file_procedures WHERE account_id = $1 ORDER BY submitted_at DESC, id LIMIT $2`,
    [accountId, limit],
  );
  return decodeAll(tx, ring, accountId, rows);
}

/** One procedure of the account; null when there is no such procedure in this file. */
export async function readProcedure(tx: Tx, ring: KeyRing, accountId: string, id: string): Promise<ProcedureView | null> {
  const { rows } = await tx.query<EntryRow>(`SELECT ${COLUMNS} FROM file_procedures WHERE account_id = $1 AND id = $2`, [accountId, id]);
  return (await decodeAll(tx, ring, accountId, rows))[0] ?? null;
}

/** Finds a procedure by its reference (agency and operator commands, system context). */
export async function findProcedureByReference(tx: Tx, reference: string): Promise<{ id: string; accountId: string } | null> {
  const { rows } = await tx.query<{ id: string; account_id: string }>(`SELECT id, account_id FROM file_procedures WHERE reference = $1`, [reference]);
  const row = rows[0];
  return row ? { id: row.id, accountId: row.account_id } : null;
}
