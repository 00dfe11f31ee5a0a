import type { MethodId } from './methods/method.ts';

/** eIDAS levels as FranceConnect names them (acr values). */
export type Level = 'eidas1' | 'eidas2' | 'eidas3';
export const LEVELS: readonly Level[] = ['eidas1', 'eidas2', 'eidas3'];

export const levelRank = (level: Level): number => LEVELS.indexOf(level);
export const meetsLevel = (have: Level, need: Level): boolean => levelRank(have) >= levelRank(need);

/** RFC 8176 values where one exists; `mail` as FranceConnect uses it for an emailed code. */
const AMR: Record<MethodId, string> = {
  password: 'pwd',
  'email-code': 'mail',
};

/**
 * The one place where completed methods become a level (DESIGN principle 4). Email is not a
 * possession factor (NIST 800-63B §3.1.3.1), so password + email code is `eidas1` and never
 * more; a password alone is no level at all: every login needs a second step.
 */
export function levelOf(completed: readonly MethodId[]): { level: Level; amr: string[] } | null {
  const done = new Set(completed);
  const amr = [...done].map((m) => AMR[m]).sort();
  if (done.has('password') && done.has('email-code')) return { level: 'eidas1', amr };
  return null;
}
