/**
 * French social-security number (NIR) and temporary number (NIA):
 * sex (1) · year (2) · month (2) · department (2, or 3 for 97x/98x) · commune (3, or 2) · order (3) · key (2).
 * Error messages never repeat the number: it is personal data and messages end up in logs and pages.
 */

export type NirKind = 'nir' | 'nia';

export interface Nir {
  /** Canonical form: 15 characters, no separators, 2A/2B kept as letters. */
  value: string;
  kind: NirKind;
  sex: 1 | 2;
  year: string;
  month: string;
  /** 2 characters, or 3 digits for overseas (97x, 98x). */
  department: string;
  key: string;
}

export type NirErrorCode = 'length' | 'characters' | 'sex' | 'month' | 'department' | 'key';
export type NirError = { code: NirErrorCode; message: { fr: string; en: string } };
export type NirResult = { ok: true; nir: Nir } | { ok: false; error: NirError };

// Separators people type or paste: spaces (incl. non-breaking), tabs, dots.
const SEPARATORS = /[\s.]/gu;
const BODY = /^[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{6}$/;
const CANONICAL = /^[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{8}$/;

function fail(code: NirErrorCode, fr: string, en: string): { ok: false; error: NirError } {
  return { ok: false, error: { code, message: { fr, en } } };
}

/** Strip separators and uppercase; ASCII check first so that toUpperCase cannot change the length. */
function normalize(input: string): string {
  const stripped = input.replace(SEPARATORS, '');
  return /^[0-9A-Za-z]*$/.test(stripped) ? stripped.toUpperCase() : stripped;
}

function validMonth(month: number): boolean {
  // 20-42 and 50-99 are pseudo months given when the month of birth is unknown.
  return (month >= 1 && month <= 12) || (month >= 20 && month <= 42) || month >= 50;
}

/** The 2-digit key of the first 13 characters: 97 - (number mod 97), Corsica 2A → 19, 2B → 18. */
export function nirKey(first13: string): string {
  const body = normalize(first13);
  if (!BODY.test(body)) throw new RangeError('nirKey expects the 13 first characters of a NIR');
  const numeric = body.slice(0, 5) + body.slice(5, 7).replace('2A', '19').replace('2B', '18') + body.slice(7);
  return String(97n - (BigInt(numeric) % 97n)).padStart(2, '0');
}

export function parseNir(input: string): NirResult {
  const value = normalize(input);

  // Before the length check: a stray hyphen or letter is the real problem, not the count.
  if (!/^[0-9A-Z]*$/.test(value)) {
    return fail(
      'characters',
      'Le numéro ne doit contenir que des chiffres, sauf pour la Corse (2A ou 2B aux 6e et 7e caractères).',
      'The number may only contain digits, except for Corsica (2A or 2B as the 6th and 7th characters).',
    );
  }
  if (value.length === 0) {
    return fail(
      'length',
      'Saisissez votre numéro de sécurité sociale : 15 caractères (13 chiffres et la clé de 2 chiffres).',
      'Enter your social security number: 15 characters (13 digits and the 2-digit key).',
    );
  }
  if (value.length !== 15) {
    return fail(
      'length',
      `Le numéro doit comporter 15 caractères (13 chiffres et la clé de 2 chiffres) ; vous en avez saisi ${value.length}.`,
      `The number must be 15 characters long (13 digits and the 2-digit key); you entered ${value.length}.`,
    );
  }
  if (!CANONICAL.test(value)) {
    return fail(
      'characters',
      'Le numéro ne doit contenir que des chiffres, sauf pour la Corse (2A ou 2B aux 6e et 7e caractères).',
      'The number may only contain digits, except for Corsica (2A or 2B as the 6th and 7th characters).',
    );
  }

  const sexDigit = value[0];
  if (sexDigit !== '1' && sexDigit !== '2' && sexDigit !== '7' && sexDigit !== '8') {
    return fail(
      'sex',
      'Le premier chiffre doit être 1 ou 2 (7 ou 8 pour un numéro provisoire).',
      'The first digit must be 1 or 2 (7 or 8 for a temporary number).',
    );
  }

  const month = value.slice(3, 5);
  if (!validMonth(Number(month))) {
    return fail(
      'month',
      'Le mois de naissance (4e et 5e chiffres) n’est pas valide : pour un mois connu, il va de 01 à 12.',
      'The month of birth (4th and 5th digits) is not valid: for a known month it ranges from 01 to 12.',
    );
  }

  // Every 2-digit value but 00 is a department: 01-95 (20 before 1976), 96, 97x/98x overseas, 99 abroad.
  const dept2 = value.slice(5, 7);
  if (dept2 === '00') {
    return fail(
      'department',
      'Le département de naissance (6e et 7e caractères) n’est pas valide.',
      'The department of birth (6th and 7th characters) is not valid.',
    );
  }

  const key = value.slice(13);
  if (key !== nirKey(value.slice(0, 13))) {
    return fail(
      'key',
      'La clé (2 derniers chiffres) ne correspond pas au numéro : vérifiez la saisie.',
      'The key (last 2 digits) does not match the number: please check what you entered.',
    );
  }

  const temporary = sexDigit === '7' || sexDigit === '8';
  return {
    ok: true,
    nir: {
      value,
      kind: temporary ? 'nia' : 'nir',
      sex: sexDigit === '1' || sexDigit === '7' ? 1 : 2,
      year: value.slice(1, 3),
      month,
      department: dept2 === '97' || dept2 === '98' ? value.slice(5, 8) : dept2,
      key,
    },
  };
}

function groups(value: string): string[] {
  return [value.slice(0, 1), value.slice(1, 3), value.slice(3, 5), value.slice(5, 7), value.slice(7, 10), value.slice(10, 13), value.slice(13)];
}

function canonical(nir: string, caller: string): string {
  const value = normalize(nir);
  // The message does not include the value: it is personal data.
  if (value.length !== 15) throw new RangeError(`${caller} expects a 15-character NIR`);
  return value;
}

/** Display grouping: '1 85 07 2B 012 345 14'. */
export function formatNir(nir: string): string {
  return groups(canonical(nir, 'formatNir')).join(' ');
}

/** Display with only sex, year, month and key visible: '1 85 07 ** *** *** 14'. */
export function maskNir(nir: string): string {
  const [sex = '', year = '', month = '', , , , key = ''] = groups(canonical(nir, 'maskNir'));
  return `${sex} ${year} ${month} ** *** *** ${key}`;
}
