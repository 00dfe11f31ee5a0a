import type { Locale } from '../../web/i18n.ts';

/**
 * Amounts, days and months as the citizen reads them: fr-FR "1 234,56 €", en-GB "€1,234.56";
 * "15 janvier 2026" / "15 January 2026". Days and months are calendar values ('YYYY-MM-DD',
 * 'YYYY-MM'), formatted in UTC so that no time zone moves them to the day before.
 */

const TAG: Record<Locale, string> = { fr: 'fr-FR', en: 'en-GB' };

// Building a formatter costs far more than using one.
const money = { fr: new Intl.NumberFormat(TAG.fr, { style: 'currency', currency: 'EUR' }), en: new Intl.NumberFormat(TAG.en, { style: 'currency', currency: 'EUR' }) };
const days = { fr: new Intl.DateTimeFormat(TAG.fr, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }), en: new Intl.DateTimeFormat(TAG.en, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }) };
const months = { fr: new Intl.DateTimeFormat(TAG.fr, { month: 'long', year: 'numeric', timeZone: 'UTC' }), en: new Intl.DateTimeFormat(TAG.en, { month: 'long', year: 'numeric', timeZone: 'UTC' }) };

export const formatEuros = (locale: Locale, cents: number): string => money[locale].format(cents / 100);

/** '2026-01-05' → "5 janvier 2026" (fr, with "1er" for the first) / "5 January 2026". */
export function formatDay(locale: Locale, day: string): string {
  const text = days[locale].format(new Date(`${day}T00:00:00Z`));
  return locale === 'fr' && day.endsWith('-01') ? text.replace(/^1 /, '1er ') : text;
}

/** '2026-01' → "janvier 2026" / "January 2026". */
export const formatMonth = (locale: Locale, month: string): string => months[locale].format(new Date(`${month}-01T00:00:00Z`));
