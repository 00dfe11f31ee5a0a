import { monthsOfQuarter, parseQuarterId, previousQuarter, quarterId, quarterOf, type Quarter } from './dates.ts';
import { clean, type FieldErrors, type FormValues, type Parsed } from './form.ts';

/**
 * Quarterly income declaration: for one quarter (the current one or one of the last three,
 * not already declared), what was received in each of its three months, per kind of income.
 * Amounts are stored in cents (integers: no rounding surprises in sums).
 */

export const INCOME_TYPES = ['salaries', 'unemployment', 'pensions', 'other'] as const;
export type IncomeType = (typeof INCOME_TYPES)[number];

export type IncomeDeclarationData = {
  /** '2026-Q1' */
  quarter: string;
  /** Its three months, 'YYYY-MM'. */
  months: string[];
  /** Per type, the three months' amounts in cents. */
  amounts: Record<IncomeType, number[]>;
  totalCents: number;
};

/** How many quarters may be declared: the current one and the three before it. */
export const DECLARABLE_QUARTERS = 4;
/** Per month and kind of income: well above any benefit recipient's income, well below an overflow. */
export const MAX_MONTHLY_CENTS = 100_000_00;

/** The name of the field for one type and one month of the quarter (0, 1, 2): `salaries-1`… */
export const amountField = (type: IncomeType, month: number): string => `${type}-${month + 1}`;

export const INCOME_FIELDS: readonly string[] = ['quarter', ...INCOME_TYPES.flatMap((type) => [0, 1, 2].map((m) => amountField(type, m)))];

/** The quarters the form offers, newest first: the current and previous ones, minus those already declared. */
export function declarableQuarters(today: string, declared: ReadonlySet<string>): Quarter[] {
  const out: Quarter[] = [];
  let q = quarterOf(today);
  for (let i = 0; i < DECLARABLE_QUARTERS; i++, q = previousQuarter(q)) if (!declared.has(quarterId(q))) out.push(q);
  return out;
}

/**
 * Euros as people type them: "1234", "1 234,56", "1234.5", "850 €". Up to two decimals, a
 * comma or a point before them, spaces between thousands; nothing else.
 */
export function parseEuros(input: string): { ok: true; cents: number } | { ok: false; error: 'amount' | 'amount-negative' | 'amount-too-large' } {
  const value = clean(input).replace(/\s*€$/, '').replace(/ /g, '');
  if (value.startsWith('-')) return /^-\d/.test(value) ? { ok: false, error: 'amount-negative' } : { ok: false, error: 'amount' };
  const m = /^(\d{1,12})(?:[.,](\d{1,2}))?$/.exec(value);
  if (!m) return { ok: false, error: 'amount' };
  const cents = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  if (cents > MAX_MONTHLY_CENTS) return { ok: false, error: 'amount-too-large' };
  return { ok: true, cents };
}

export function parseIncomeDeclaration(values: FormValues, o: { today: string; declared: ReadonlySet<string> }): Parsed<IncomeDeclarationData> {
  const errors: FieldErrors = {};
  const chosen = clean(values.quarter);
  const quarter = parseQuarterId(chosen);
  if (chosen === '') errors.quarter = 'required';
  else if (!quarter || !declarableQuarters(o.today, new Set()).some((q) => quarterId(q) === chosen)) errors.quarter = 'quarter';
  else if (o.declared.has(chosen)) errors.quarter = 'quarter-declared';

  const amounts = {} as Record<IncomeType, number[]>;
  let totalCents = 0;
  for (const type of INCOME_TYPES) {
    amounts[type] = [0, 1, 2].map((m) => {
      const name = amountField(type, m);
      // An empty box is nothing received that month.
      if (clean(values[name]) === '') return 0;
      const parsed = parseEuros(values[name] ?? '');
      if (!parsed.ok) {
        errors[name] = parsed.error;
        return 0;
      }
      totalCents += parsed.cents;
      return parsed.cents;
    });
  }
  if (!quarter || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, data: { quarter: chosen, months: monthsOfQuarter(quarter), amounts, totalCents } };
}

/** The stored data read back. */
export function incomeDeclarationOf(data: Record<string, unknown>): IncomeDeclarationData | null {
  const { quarter, months, amounts, totalCents } = data;
  if (typeof quarter !== 'string' || !Array.isArray(months) || typeof totalCents !== 'number' || typeof amounts !== 'object' || amounts === null) return null;
  const byType = amounts as Record<string, unknown>;
  const ok = INCOME_TYPES.every((type) => Array.isArray(byType[type]) && (byType[type] as unknown[]).length === 3 && (byType[type] as unknown[]).every((n) => Number.isInteger(n)));
  if (!ok || !months.every((m) => typeof m === 'string')) return null;
  return { quarter, months: months as string[], amounts: byType as Record<IncomeType, number[]>, totalCents };
}
