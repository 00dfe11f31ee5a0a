import type { BankDetails } from '../../file/catalogue.ts';
import { normaliseIban } from '../../file/catalogue.ts';
import { ibanProblem, type IbanProblem } from '../../file/iban.ts';

/** The change form as typed, and what is wrong with each field (reason codes; pages word them). */
export interface BankForm {
  iban: string;
  holder: string;
}

export type HolderProblem = 'required' | 'too-long' | 'characters';
export interface BankFormErrors {
  iban?: IbanProblem | 'required';
  holder?: HolderProblem;
}

export const HOLDER_MAX = 140;
// A person's name as a bank writes it: letters of any language, spaces, apostrophes, hyphens, dots ("M. ou Mme").
const HOLDER = /^[\p{L}\p{M} '’.-]+$/u;

export function parseBankForm(raw: BankForm): { ok: true; details: BankDetails } | { ok: false; errors: BankFormErrors } {
  const iban = normaliseIban(raw.iban);
  const holder = raw.holder.normalize('NFC').replace(/\s+/g, ' ').trim();
  const errors: BankFormErrors = {};
  const problem = iban === '' ? 'required' : ibanProblem(iban);
  if (problem) errors.iban = problem;
  if (holder === '') errors.holder = 'required';
  else if (holder.length > HOLDER_MAX) errors.holder = 'too-long';
  else if (!HOLDER.test(holder)) errors.holder = 'characters';
  if (errors.iban || errors.holder) return { ok: false, errors };
  return { ok: true, details: { iban, holder } };
}
