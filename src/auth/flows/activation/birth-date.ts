/**
 * The birth date typed on the activation form: YYYY-MM-DD from a date picker, or
 * DD/MM/YYYY typed by hand where the browser shows a plain text field. A format problem
 * says nothing about any account, so it is answered precisely.
 */
export type BirthDateProblem = 'required' | 'format' | 'nonexistent' | 'future';

const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;
// Slashes, dots, dashes or spaces between day, month and year; 1 or 2 digits for day and month.
const BY_HAND = /^(\d{1,2})[/.\s-](\d{1,2})[/.\s-](\d{4})$/;

const pad = (n: number): string => String(n).padStart(2, '0');

/** The date as YYYY-MM-DD (the stored form), or what is wrong with it. */
export function parseBirthDate(input: string, today: Date): { ok: true; date: string } | { ok: false; problem: BirthDateProblem } {
  const text = input.trim();
  if (text === '') return { ok: false, problem: 'required' };
  const iso = ISO.exec(text);
  const byHand = iso ? null : BY_HAND.exec(text);
  const parts = iso ? [iso[1], iso[2], iso[3]] : byHand ? [byHand[3], byHand[2], byHand[1]] : null;
  if (!parts) return { ok: false, problem: 'format' };
  const [year, month, day] = parts.map(Number) as [number, number, number];
  // Date.UTC rolls 31/02 over to March: a date that does not round-trip does not exist.
  const date = new Date(Date.UTC(year, month - 1, day));
  if (year < 1000 || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return { ok: false, problem: 'nonexistent' };
  const value = `${year}-${pad(month)}-${pad(day)}`;
  if (value > today.toISOString().slice(0, 10)) return { ok: false, problem: 'future' };
  return { ok: true, date: value };
}
