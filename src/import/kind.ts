import type { Tx } from '../db/contexts.ts';
import type { Counts, ImportKind } from './runs.ts';

/**
 * What the runner needs from each kind of import (beneficiaries, payments): its columns, a
 * validation of one row, and the bulk write of a batch of valid rows in one transaction.
 */

/** A row's cells by column name; an absent column or an empty cell reads as ''. */
export type Cells = (column: string) => string;

export interface ValidRow<V> {
  line: number;
  /** The row as read (for the rejects file). */
  fields: readonly string[];
  value: V;
}

export type Validation<V> = { value: V } | { problems: string[] };

export interface WriteResult {
  counts: Partial<Counts>;
  /** Rows the write did not apply (unknown NIR, changed row…): `notApplied` says which count they are in. */
  rejects: { line: number; fields: readonly string[]; reason: string }[];
  /** Said about a row that was applied, for the operator (never a value). */
  notes: { line: number; message: string }[];
}

export interface KindSpec<V> {
  kind: ImportKind;
  /** Every column the file may have, in documentation order. */
  columns: readonly string[];
  required: readonly string[];
  /** How each outcome is worded in the summary. */
  wording: Partial<Record<keyof Counts, string>>;
  validate(cells: Cells, today: Date): Validation<V>;
  /** CPU work that can be done before the batch's transaction (while the previous one is in flight); must be safe to redo or drop. */
  prepare?(rows: readonly ValidRow<V>[]): void | Promise<void>;
  /** Releases what the spec holds (a worker thread). */
  close?(): Promise<void>;
  write(tx: Tx, rows: readonly ValidRow<V>[]): Promise<WriteResult>;
}
