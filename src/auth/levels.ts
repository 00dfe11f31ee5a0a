import type { MethodId } from './methods/method.ts';

/** eIDAS levels as FranceConnect names them (acr values). */
export type Level = 'eidas1' | 'eidas2' | 'eidas3';
export const LEVELS: readonly Level[] = ['eidas1', 'eidas2', 'eidas3'];

export const levelRank = (level: Level): number => LEVELS.indexOf(level);
export const meetsLevel = (have: Level, need: Level): boolean => levelRank(have) >= levelRank(need);

/**
 * RFC 8176 values. `mail` is FranceConnect's for an emailed code; a passkey is a hardware-held
 * key (`hwk`) unlocked by the person (`user`, user verification); the approval device holds a
 * non-exportable key in the browser (`swk`); authenticator-app and recovery codes are `otp`.
 */
const AMR: Record<MethodId, readonly string[]> = {
  password: ['pwd'],
  'email-code': ['mail'],
  passkey: ['hwk', 'user'],
  totp: ['otp'],
  'recovery-code': ['otp'],
  'device-approval': ['swk'],
};

/**
 * The rules, strongest first: the first whose methods were all completed gives the level.
 * Email is not a possession factor (NIST 800-63B §3.1.3.1), so password + email code is
 * `eidas1` and never more; a password alone is no level at all: every login needs a second
 * step. A passkey with user verification is two factors in one (possession + the unlock).
 * Recovery codes are NIST "look-up secrets", accepted at AAL2 like the app they back up.
 */
const RULES: readonly { methods: readonly MethodId[]; level: Level }[] = [
  { methods: ['passkey'], level: 'eidas2' },
  { methods: ['password', 'totp'], level: 'eidas2' },
  { methods: ['password', 'recovery-code'], level: 'eidas2' },
  { methods: ['password', 'device-approval'], level: 'eidas2' },
  { methods: ['password', 'email-code'], level: 'eidas1' },
];

/** The one place where completed methods become a level and amr (DESIGN principle 4). */
export function levelOf(completed: readonly MethodId[]): { level: Level; amr: string[] } | null {
  const done = new Set(completed);
  const rule = RULES.find((r) => r.methods.every((m) => done.has(m)));
  if (!rule) return null;
  const amr = new Set(rule.methods.flatMap((m) => AMR[m]));
  // Two distinct factors: `mfa` (RFC 8176), which relying parties look for.
  if (rule.level !== 'eidas1') amr.add('mfa');
  return { level: rule.level, amr: [...amr].sort() };
}
