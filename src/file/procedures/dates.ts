/**
 * Calendar arithmetic on plain strings ('YYYY-MM-DD' days, 'YYYY-MM' months). Once "today"
 * is known in the site's time zone, forms compare days and months, never instants, so a
 * declaration made at 00:30 in Paris is not filed under the previous day.
 */

import { localFromInstant } from '../../time-format.ts';

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

/** The calendar day of `now` in `timeZone`, as 'YYYY-MM-DD' (through time-format's cached formatters: building one costs far more than using one). */
export const localDate = (now: Date, timeZone: string): string => localFromInstant(now, timeZone).slice(0, 10);

/** Whether the string is a real day (2026-02-30 is not). */
export function isIsoDate(value: string): boolean {
  const m = DAY.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

export const isIsoMonth = (value: string): boolean => {
  const m = MONTH.exec(value);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 12;
};

export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

export const monthOf = (day: string): string => day.slice(0, 7);

export function addMonths(month: string, months: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const index = y * 12 + (m - 1) + months;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** How many months from `from` to `to`, both included (0 or less when `to` is before `from`). */
export function monthSpan(from: string, to: string): number {
  const [fy, fm] = from.split('-').map(Number) as [number, number];
  const [ty, tm] = to.split('-').map(Number) as [number, number];
  return ty * 12 + tm - (fy * 12 + fm) + 1;
}

export function lastDayOfMonth(month: string): string {
  return addDays(`${addMonths(month, 1)}-01`, -1);
}

export type QuarterNumber = 1 | 2 | 3 | 4;
export interface Quarter {
  year: number;
  quarter: QuarterNumber;
}

export const quarterId = (q: Quarter): string => `${q.year}-Q${q.quarter}`;

export function parseQuarterId(value: string): Quarter | null {
  const m = /^(\d{4})-Q([1-4])$/.exec(value);
  return m ? { year: Number(m[1]), quarter: Number(m[2]) as QuarterNumber } : null;
}

export function quarterOf(day: string): Quarter {
  return { year: Number(day.slice(0, 4)), quarter: (Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1) as QuarterNumber };
}

export function previousQuarter(q: Quarter): Quarter {
  return q.quarter === 1 ? { year: q.year - 1, quarter: 4 } : { year: q.year, quarter: (q.quarter - 1) as QuarterNumber };
}

/** The three months of a quarter, 'YYYY-MM'. */
export function monthsOfQuarter(q: Quarter): [string, string, string] {
  const first = `${String(q.year).padStart(4, '0')}-${String((q.quarter - 1) * 3 + 1).padStart(2, '0')}`;
  return [first, addMonths(first, 1), addMonths(first, 2)];
}
