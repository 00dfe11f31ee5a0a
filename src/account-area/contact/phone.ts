/**
 * Telephone numbers as people type them: French national numbers (`06 12 34 56 78`,
 * `06.12.34.56.78`), with the country code (`+33 6 12 34 56 78`, `+33 (0)6 …`, `0033 6 …`), or
 * any other country's with `+` and its code. Stored in E.164 (`+33612345678`): one spelling
 * per number, whatever was typed.
 */

export type PhoneProblem = 'format' | 'french-length' | 'international-length';

export type PhoneResult = { ok: true; e164: string } | { ok: false; problem: PhoneProblem };

/**
 * National numbers of the overseas departments are dialled with their own country code from
 * abroad, not +33: 0692 12 34 56 (Réunion) is +262 692 12 34 56.
 */
const OVERSEAS: readonly (readonly [prefix: RegExp, code: string])[] = [
  [/^(262|263|269|639|692|693)/, '262'], // La Réunion, Mayotte
  [/^(590|690|691)/, '590'], // Guadeloupe, Saint-Martin, Saint-Barthélemy
  [/^(594|694)/, '594'], // Guyane
  [/^(596|696|697)/, '596'], // Martinique
];

/** Country codes whose numbers have 9 digits after the code, written nationally with a leading 0. */
const FRENCH_CODES = ['33', '262', '590', '594', '596'];

export function parsePhone(input: string): PhoneResult {
  // Separators people use; "(0)" is the trunk prefix some write after +33.
  const compact = input.trim().replace(/\(0\)/g, '').replace(/[\s\u00a0.\-()/]/g, '');
  if (!/^(\+|00)?[0-9]+$/.test(compact)) return { ok: false, problem: 'format' };
  if (compact.startsWith('+') || compact.startsWith('00')) {
    const digits = compact.replace(/^(\+|00)/, '');
    const french = FRENCH_CODES.find((code) => digits.startsWith(code));
    if (french) {
      // "+33 06 …": the national 0 kept after the code.
      const rest = digits.slice(french.length).replace(/^0(?=[0-9]{9}$)/, '');
      if (!/^[1-9][0-9]{8}$/.test(rest)) return { ok: false, problem: 'french-length' };
      return { ok: true, e164: `+${french}${rest}` };
    }
    // E.164: a country code (never starting with 0) and at most 15 digits in all.
    if (!/^[1-9][0-9]{7,14}$/.test(digits)) return { ok: false, problem: 'international-length' };
    return { ok: true, e164: `+${digits}` };
  }
  if (!compact.startsWith('0')) return { ok: false, problem: 'format' };
  if (!/^0[1-9][0-9]{8}$/.test(compact)) return { ok: false, problem: 'french-length' };
  const national = compact.slice(1);
  const overseas = OVERSEAS.find(([prefix]) => prefix.test(national));
  return { ok: true, e164: `+${overseas?.[1] ?? '33'}${national}` };
}

/**
 * For display: French numbers in the national way (`06 12 34 56 78`), others as stored.
 * A stored value that is not E.164 (from an older import) is shown as it is.
 */
export function formatPhone(stored: string): string {
  const french = FRENCH_CODES.find((code) => stored.startsWith(`+${code}`) && /^[0-9]{9}$/.test(stored.slice(code.length + 1)));
  if (!french) return stored;
  return `0${stored.slice(french.length + 1)}`.replace(/(\d{2})(?=\d)/g, '$1 ');
}
