import type { Tx } from '../db/contexts.ts';
import { newId } from '../crypto/random.ts';
import type { FileIdentity } from './file-identity.ts';

/**
 * Import runs and their checkpoints (import_runs, 014_imports.sql). A checkpoint is written in
 * the transaction of the batch it follows, so it always names exactly what is committed.
 */

export type ImportKind = 'beneficiaries' | 'payments';

export const OUTCOMES = ['created', 'updated', 'unchanged', 'notApplied', 'rejected'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type Counts = Record<Outcome, number>;

export const noCounts = (): Counts => ({ created: 0, updated: 0, unchanged: 0, notApplied: 0, rejected: 0 });

export interface Checkpoint {
  /** Data records handled (committed or rejected), in file order. */
  recordsDone: number;
  /** Line of the last of them (for people: "resuming after line N"). */
  lastLine: number;
  /** Length of the rejects file once their rejected rows were written. */
  rejectsBytes: number;
  counts: Counts;
}

export interface Run extends Checkpoint {
  id: string;
  kind: ImportKind;
  updateIdentity: boolean;
  /** Fences the run: only the process holding the latest token may checkpoint it. */
  token: string;
  startedAt: Date;
}

export class RunTakenOverError extends Error {
  override name = 'RunTakenOverError';
  constructor() {
    super('another `sesame import` of this file took over the run: this one stops (nothing of its last batch was kept)');
  }
}

interface RunRow extends Record<string, unknown> {
  id: string;
  kind: ImportKind;
  update_identity: boolean;
  records_done: string;
  last_line: string;
  rejects_bytes: string;
  counts: Partial<Counts>;
  started_at: Date;
}

const countsOf = (raw: Partial<Counts>): Counts => {
  const c = noCounts();
  for (const k of OUTCOMES) c[k] = Number(raw[k] ?? 0);
  return c;
};

/** The unfinished run of this file, claimed with a new token (a process still running it stops at its next checkpoint). */
export async function claimUnfinished(tx: Tx, kind: ImportKind, file: FileIdentity, now: Date): Promise<Run | null> {
  const token = newId();
  const { rows } = await tx.query<RunRow>(
    `UPDATE import_runs SET token = $3, updated_at = $4 WHERE kind = $1 AND file_sha256 = $2 AND status = 'running'
     RETURNING id, kind, update_identity, records_done::text AS records_done, last_line::text AS last_line,
               rejects_bytes::text AS rejects_bytes, counts, started_at`,
    [kind, file.sha256, token, now],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id,
    kind: r.kind,
    updateIdentity: r.update_identity,
    token,
    startedAt: r.started_at,
    recordsDone: Number(r.records_done),
    lastLine: Number(r.last_line),
    rejectsBytes: Number(r.rejects_bytes),
    counts: countsOf(r.counts),
  };
}

/** --restart: the unfinished run is closed as abandoned (what it committed stays: rows are idempotent). */
export async function abandonUnfinished(tx: Tx, kind: ImportKind, file: FileIdentity, now: Date): Promise<number> {
  const { rowCount } = await tx.query(
    `UPDATE import_runs SET status = 'abandoned', finished_at = $3, updated_at = $3 WHERE kind = $1 AND file_sha256 = $2 AND status = 'running'`,
    [kind, file.sha256, now],
  );
  return rowCount;
}

export async function startRun(tx: Tx, input: { kind: ImportKind; file: FileIdentity; updateIdentity: boolean; operator: string; now: Date }): Promise<Run> {
  const run: Run = {
    id: newId(),
    kind: input.kind,
    updateIdentity: input.updateIdentity,
    token: newId(),
    startedAt: input.now,
    recordsDone: 0,
    lastLine: 0,
    rejectsBytes: 0,
    counts: noCounts(),
  };
  await tx.query(
    `INSERT INTO import_runs (id, kind, file_sha256, file_size, update_identity, status, token, operator, counts, started_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8, $9, $9)`,
    [run.id, run.kind, input.file.sha256, input.file.size, run.updateIdentity, run.token, input.operator, JSON.stringify(run.counts), input.now],
  );
  return run;
}

/**
 * Records the checkpoint in the batch's transaction; refuses (and so rolls the batch back)
 * when another process claimed the run since.
 */
export async function checkpoint(tx: Tx, run: Run, next: Checkpoint, now: Date, finished = false): Promise<void> {
  const { rowCount } = await tx.query(
    `UPDATE import_runs SET records_done = $3, last_line = $4, rejects_bytes = $5, counts = $6, updated_at = $7,
            status = CASE WHEN $8::boolean THEN 'finished' ELSE status END, finished_at = CASE WHEN $8::boolean THEN $7 ELSE finished_at END
      WHERE id = $1 AND token = $2 AND status = 'running'`,
    [run.id, run.token, next.recordsDone, next.lastLine, next.rejectsBytes, JSON.stringify(next.counts), now, finished],
  );
  if (rowCount !== 1) throw new RunTakenOverError();
}
