/**
 * Password rules (NIST SP 800-63B §3.1.1.2): length only, no composition rules, no expiry.
 * Counted in code points after NFC normalisation, so an accented letter counts once
 * whichever way the keyboard composed it.
 */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

export type PasswordProblem = { code: 'too_short' | 'too_long'; message: { fr: string; en: string } };

export const normalisePassword = (password: string): string => password.normalize('NFC');

export function checkPassword(password: string): PasswordProblem | null {
  const length = [...normalisePassword(password)].length;
  if (length < PASSWORD_MIN)
    return {
      code: 'too_short',
      message: { fr: `Le mot de passe doit comporter au moins ${PASSWORD_MIN} caractères.`, en: `The password must be at least ${PASSWORD_MIN} characters long.` },
    };
  if (length > PASSWORD_MAX)
    return {
      code: 'too_long',
      message: { fr: `Le mot de passe doit comporter au plus ${PASSWORD_MAX} caractères.`, en: `The password must be at most ${PASSWORD_MAX} characters long.` },
    };
  return null;
}
