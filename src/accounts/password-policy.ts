import { isCommonPassword } from './common-passwords.ts';

/**
 * Password rules (NIST SP 800-63B §3.1.1.2): length, not a common password, not the account's
 * NIR, not repetitive or sequential characters; no composition rules, no expiry.
 * Counted in code points after NFC normalisation, so an accented letter counts once
 * whichever way the keyboard composed it.
 * Messages never repeat the password: they end up in pages and logs.
 */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

export type PasswordProblemCode = 'too_short' | 'too_long' | 'contains_nir' | 'common' | 'too_simple';
export type PasswordProblem = { code: PasswordProblemCode; message: { fr: string; en: string } };

/** What is known of the account the password is for. */
export interface PasswordContext {
  /** The account's NIR, with or without spaces. */
  nir?: string;
}

export const normalisePassword = (password: string): string => password.normalize('NFC');

// Séparateurs qu'on met dans un NIR (espaces, points, tirets) : ignorés des deux côtés.
// Separators people put in a NIR (spaces, dots, hyphens): ignored on both sides.
const NIR_SEPARATORS = /[\s.-]/gu;

/** Contains the 13 first characters of the NIR (so the whole NIR too), separators ignored. */
function containsNir(password: string, nir: string | undefined): boolean {
  const first13 = (nir ?? '').replace(NIR_SEPARATORS, '').toLowerCase().slice(0, 13);
  // Un NIR tronqué ne dit rien : sans ce garde, un NIR vide serait « contenu » partout.
  // A truncated NIR says nothing: without this guard an empty one would be "contained" everywhere.
  if (first13.length < 13) return false;
  return password.replace(NIR_SEPARATORS, '').toLowerCase().includes(first13);
}

// Blanks, control and invisible formatting characters: they make up the length, not the secret.
const FILLER = /[\p{Cc}\p{Cf}\p{Z}]/gu;

/**
 * Fewer than 3 different characters (`aaaaaaaaaaaa`, `abababababab`, 12 spaces or zero-width
 * spaces), or one run up or down the alphabet or the digits (`abcdefghijkl`, `987654321098`):
 * guessed at once whatever their length (NIST SP 800-63B §3.1.1.2, "repetitive or sequential").
 */
function tooSimple(password: string): boolean {
  const chars = [...password.normalize('NFKC').toLowerCase().replace(FILLER, '')];
  if (new Set(chars).size < 3) return true;
  const codes = chars.map((c) => c.codePointAt(0) ?? 0);
  const step = (i: number): number => {
    const d = (codes[i] ?? 0) - (codes[i - 1] ?? 0);
    // 9 → 0 and 0 → 9 go on a run of digits.
    const digits = /\d/u.test(chars[i] ?? '') && /\d/u.test(chars[i - 1] ?? '');
    return digits && Math.abs(d) === 9 ? -Math.sign(d) : d;
  };
  const first = step(1);
  return Math.abs(first) === 1 && codes.every((_, i) => i === 0 || step(i) === first);
}

const problem = (code: PasswordProblemCode, fr: string, en: string): PasswordProblem => ({ code, message: { fr, en } });

/** The first thing wrong with the password, or null. */
export function checkPassword(password: string, context: PasswordContext = {}): PasswordProblem | null {
  const normalised = normalisePassword(password);
  const length = [...normalised].length;
  if (length < PASSWORD_MIN)
    return problem('too_short', `Le mot de passe doit comporter au moins ${PASSWORD_MIN} caractères.`, `The password must be at least ${PASSWORD_MIN} characters long.`);
  if (length > PASSWORD_MAX)
    return problem('too_long', `Le mot de passe doit comporter au plus ${PASSWORD_MAX} caractères.`, `The password must be at most ${PASSWORD_MAX} characters long.`);
  if (containsNir(normalised, context.nir))
    return problem(
      'contains_nir',
      'Le mot de passe ne doit pas contenir votre numéro de sécurité sociale.',
      'The password must not contain your social security number.',
    );
  if (isCommonPassword(normalised))
    return problem(
      'common',
      'Ce mot de passe fait partie des plus courants, ceux que l’on essaie en premier pour deviner un mot de passe. Choisissez-en un autre, par exemple une suite de plusieurs mots.',
      'This password is one of the most common ones, the first tried when guessing a password. Choose another one, for example a few words in a row.',
    );
  if (tooSimple(normalised))
    return problem(
      'too_simple',
      'Ce mot de passe est trop simple : un même caractère répété ou une suite (abcd, 1234) se devine tout de suite. Choisissez-en un autre, par exemple une suite de plusieurs mots.',
      'This password is too simple: a repeated character or a run (abcd, 1234) is guessed at once. Choose another one, for example a few words in a row.',
    );
  return null;
}
