import { z } from 'zod';
import { parseNir } from './nir.ts';
import type { Contact, Gender, Identity } from './accounts.ts';

/**
 * Validation of a person's identity and contact as typed by an operator or read from an
 * import file. Every problem names its field; no message repeats the value.
 */
export interface PersonFields {
  nir: string;
  givenNames: string;
  familyName: string;
  /** The usage name (nom d'usage); the same as the family name, whatever the case, counts as none. */
  usageName?: string | undefined;
  birthDate: string;
  birthPlace?: string | undefined;
  gender?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  postalAddress?: string | undefined;
}

export type FieldProblem = { field: keyof PersonFields; message: string };

const NAME = /^[\p{L}\p{M}][\p{L}\p{M}' .-]*$/u;
const PHONE = /^\+?[0-9][0-9 .-]{5,19}$/;

function name(field: keyof PersonFields, value: string, problems: FieldProblem[]): string {
  const v = value.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (v.length === 0 || v.length > 100 || !NAME.test(v)) problems.push({ field, message: 'must be 1 to 100 letters, spaces, hyphens or apostrophes' });
  return v;
}

export function validatePerson(input: PersonFields, today: Date): { identity: Identity; contact: Contact } | { problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const nir = parseNir(input.nir);
  if (!nir.ok) problems.push({ field: 'nir', message: nir.error.message.en });
  const givenNames = name('givenNames', input.givenNames, problems);
  const familyName = name('familyName', input.familyName, problems);
  const usage = input.usageName === undefined ? null : name('usageName', input.usageName, problems);
  // Agencies often write names in capitals: MARTIN for a Martin is no usage name.
  const usageName = usage === null || usage.toLocaleUpperCase('fr') === familyName.toLocaleUpperCase('fr') ? null : usage;

  const birth = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input.birthDate);
  const date = birth ? new Date(`${input.birthDate}T00:00:00Z`) : null;
  if (!birth || !date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== input.birthDate) {
    problems.push({ field: 'birthDate', message: 'must be a real date written YYYY-MM-DD' });
  } else if (date > today) {
    problems.push({ field: 'birthDate', message: 'is in the future' });
  } else if (nir.ok) {
    // The NIR repeats the year and month of birth (months 20-42 and 50-99 stand for "unknown").
    const month = Number(nir.nir.month);
    if (nir.nir.year !== birth[1]?.slice(2) || (month <= 12 && nir.nir.month !== birth[2])) {
      problems.push({ field: 'birthDate', message: 'does not match the year and month of birth in the NIR' });
    }
  }

  let gender: Gender | null = null;
  if (input.gender !== undefined) {
    if (input.gender === 'female' || input.gender === 'male') gender = input.gender;
    else problems.push({ field: 'gender', message: 'must be female or male' });
  }
  const email = input.email?.trim();
  if (email !== undefined && !z.email().safeParse(email).success) problems.push({ field: 'email', message: 'is not a valid email address' });
  const phone = input.phone?.trim();
  if (phone !== undefined && !PHONE.test(phone)) problems.push({ field: 'phone', message: 'must be a phone number (digits, spaces, an optional leading +)' });
  const birthPlace = input.birthPlace?.trim();
  if (birthPlace !== undefined && (birthPlace.length === 0 || birthPlace.length > 100)) problems.push({ field: 'birthPlace', message: 'must be 1 to 100 characters' });
  const postalAddress = input.postalAddress?.trim();
  if (postalAddress !== undefined && (postalAddress.length === 0 || postalAddress.length > 300)) problems.push({ field: 'postalAddress', message: 'must be 1 to 300 characters' });

  if (problems.length > 0 || !nir.ok) return { problems };
  return {
    identity: { nir: nir.nir.value, givenNames, familyName, usageName, birthDate: input.birthDate, birthPlace: birthPlace ?? null, gender },
    contact: { email: email ?? null, phone: phone ?? null, postalAddress: postalAddress ?? null },
  };
}
