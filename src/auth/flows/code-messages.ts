import { formatTime } from '../../time-format.ts';
import { t, type Locale } from '../../web/i18n.ts';
import type { SendRefusal, VerifyRefusal } from '../methods/email-code.ts';

/** What the code step says when a code cannot be sent, in every flow. */
export function sendRefusalMessage(locale: Locale, timeZone: string, refusal: SendRefusal, retryAt: Date | undefined): string {
  if (refusal === 'cooldown') return t(locale, 'code.cooldown', { time: retryAt ? formatTime(locale, retryAt.toISOString(), timeZone) : '' });
  if (refusal === 'flow-limit') return t(locale, 'code.noMoreCodes');
  if (refusal === 'account-limit') return t(locale, 'code.accountLimit');
  if (refusal === 'failures-limit') return t(locale, 'code.failuresLimit');
  return t(locale, 'code.noEmail');
}

/** What the code step says when the code typed is refused, in every flow. */
export function verifyRefusalMessage(locale: Locale, refusal: VerifyRefusal, remaining: number): string {
  if (refusal === 'malformed') return t(locale, 'code.malformed');
  if (refusal === 'expired') return t(locale, 'code.expired');
  if (refusal === 'account-limit') return t(locale, 'code.failuresLimit');
  return t(locale, 'code.wrong', { remaining });
}
