/**
 * IBAN rules: ISO 13616's check digits, the length each country's IBANs have, and for French
 * (and Monégasque) IBANs the key of the RIB they carry (clé RIB). catalogue.ts's isValidIban
 * (what every file event is checked against) applies countryRulesHold on top of its mod 97. A typo that happens to keep mod 97 right (about 1 in 97)
 * is still caught by the RIB key; a wrong length names the country's rule.
 */

/**
 * IBAN length by country, for the SEPA area (EPC list of SEPA countries and territories;
 * the French overseas departments use FR). Payments go by SEPA credit transfer: an account
 * elsewhere cannot receive them.
 */
export const SEPA_IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AL: 28, AT: 20, BE: 16, BG: 22, CH: 21, CY: 28, CZ: 24, DE: 22, DK: 18, EE: 20, ES: 24,
  FI: 18, FR: 27, GB: 22, GI: 23, GR: 27, HR: 21, HU: 28, IE: 22, IS: 26, IT: 27, LI: 21, LT: 20,
  LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MT: 31, NL: 18, NO: 15, PL: 28, PT: 25, RO: 24,
  SE: 24, SI: 19, SK: 24, SM: 27, VA: 22,
};

/** Countries whose IBAN carries a French RIB: bank (5), branch (5), account (11), key (2). */
const RIB_COUNTRIES = new Set(['FR', 'MC']);

// The RIB's letter-to-digit table (the one banks print on a RIB): A,J→1 B,K,S→2 … I,R,Z→9.
const RIB_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const RIB_DIGITS = '12345678912345678923456789';

/**
 * The RIB inside a French IBAN (positions 5–27) is right when the number its 23 characters
 * make (letters read through the RIB table) is a multiple of 97: that is the key's definition
 * (key = 97 − (89·bank + 15·branch + 3·account) mod 97).
 */
export function isValidRib(rib: string): boolean {
  if (!/^[0-9]{10}[0-9A-Z]{11}[0-9]{2}$/.test(rib)) return false;
  let remainder = 0;
  for (const ch of rib) {
    const digit = /[0-9]/.test(ch) ? Number(ch) : Number(RIB_DIGITS[RIB_LETTERS.indexOf(ch)]);
    remainder = (remainder * 10 + digit) % 97;
  }
  return remainder === 0;
}

/** A French IBAN: 27 characters and a right RIB key (the ISO check digits are checked apart). */
export const isValidFrenchIban = (iban: string): boolean => iban.length === 27 && isValidRib(iban.slice(4));

/** ISO 13616 check digits: the IBAN, its first four characters moved to the end and letters read as 10–35, is 1 mod 97. */
export function checkDigitsHold(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const digits = /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of digits) remainder = (remainder * 10 + Number(d)) % 97;
  }
  return remainder === 1;
}

/**
 * The country rules of a normalised IBAN: its country's length where we know it, and the RIB
 * key for FR and MC. Unknown countries pass (ISO 13616's mod 97 still applies to them).
 */
export function countryRulesHold(iban: string): boolean {
  const country = iban.slice(0, 2);
  const length = SEPA_IBAN_LENGTHS[country];
  if (length !== undefined && iban.length !== length) return false;
  return !RIB_COUNTRIES.has(country) || isValidRib(iban.slice(4));
}

export type IbanProblem = 'format' | 'country' | 'length' | 'checksum' | 'rib-key';

/**
 * Why a normalised IBAN cannot be used for payments, for the form's message (the value is
 * never repeated in it): null when it can. `checksum` is ISO 13616's mod 97.
 */
export function ibanProblem(iban: string): IbanProblem | null {
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban)) return 'format';
  const length = SEPA_IBAN_LENGTHS[iban.slice(0, 2)];
  if (length === undefined) return 'country';
  if (iban.length !== length) return 'length';
  if (!checkDigitsHold(iban)) return 'checksum';
  if (RIB_COUNTRIES.has(iban.slice(0, 2)) && !isValidRib(iban.slice(4))) return 'rib-key';
  return null;
}
