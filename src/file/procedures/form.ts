/**
 * What every procedure's validation shares: the submitted fields in, either the data to file
 * or an error code per field out. Codes, not sentences: the page turns them into messages in
 * the citizen's language, and codes never quote what was typed.
 */

export type FormValues = Readonly<Record<string, string>>;

export type ProcedureError =
  | 'required'
  | 'too-long'
  | 'characters'
  | 'postal-code'
  | 'address-unchanged'
  | 'date'
  | 'date-too-early'
  | 'date-too-late'
  | 'amount'
  | 'amount-negative'
  | 'amount-too-large'
  | 'quarter'
  | 'quarter-declared'
  | 'month'
  | 'period-order'
  | 'period-too-long';

export type FieldErrors = Record<string, ProcedureError>;

export type Parsed<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

/** A field as typed, trimmed, with runs of spaces (including no-break spaces) made one. */
export const clean = (value: string | undefined): string => (value ?? '').replace(/[\s\u00a0\u202f]+/g, ' ').trim();
