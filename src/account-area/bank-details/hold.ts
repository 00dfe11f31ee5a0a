import { t, type Locale } from '../../web/i18n.ts';
import type { AccountDeps } from '../account-deps.ts';

/**
 * The hold of a change of bank details (SESAME_BANK_HOLD_SECONDS): the new IBAN is used only
 * once it is over, and until then the change can be cancelled, from the account or with the
 * code mailed to the citizen. Three days by default: time to read one's mail.
 */
export const DEFAULT_BANK_HOLD_SECONDS = 3 * 24 * 3600;

export const holdSecondsOf = (deps: Pick<AccountDeps, 'bankHoldSeconds'>): number => deps.bankHoldSeconds ?? DEFAULT_BANK_HOLD_SECONDS;

/** "3 jours", "36 heures", "90 minute(s)": in the largest unit that divides it (minutes, rounded up, otherwise). */
export function describeHold(locale: Locale, seconds: number): string {
  if (seconds % 86400 === 0) return seconds === 86400 ? t(locale, 'bank.hold.day') : t(locale, 'bank.hold.days', { n: seconds / 86400 });
  if (seconds % 3600 === 0) return seconds === 3600 ? t(locale, 'bank.hold.hour') : t(locale, 'bank.hold.hours', { n: seconds / 3600 });
  return t(locale, 'bank.hold.minutes', { n: Math.ceil(seconds / 60) });
}
