
/**
 * Heures et dates des mails et des pages, dans le fuseau du site (un mail n'a pas le fuseau du lecteur).
 * Assemblées à partir des parties d'Intl plutôt que de son texte, qui change d'une version d'ICU
 * à l'autre (virgules, espaces insécables) : le même instant donne toujours le même texte.
 * Times and dates in mails and pages, in the site's zone (a mail does not know the reader's). Built from
 * Intl's parts rather than its text, which changes between ICU versions: stable output.
 */
/** Same languages as pages and mails. */
type TimeLocale = 'fr' | 'en';

const TAG: Record<TimeLocale, string> = { fr: 'fr-FR', en: 'en-GB' };
const AT: Record<TimeLocale, string> = { fr: 'à', en: 'at' };
// En français, le premier du mois s'écrit « 1er ». / French writes the first of the month "1er".
const dayOf = (locale: TimeLocale, day: string | undefined): string => (locale === 'fr' && day === '1' ? '1er' : (day ?? ''));

type Part = 'weekday' | 'day' | 'month' | 'year' | 'hour' | 'minute';

// Building a DateTimeFormat costs far more than using one; pages format times on every view.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: TimeLocale, timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(TAG[locale], { ...options, timeZone });
    formatters.set(key, f);
  }
  return f;
}

function partsOf(locale: TimeLocale, iso: string, timeZone: string, options: Intl.DateTimeFormatOptions): Partial<Record<Part, string>> {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new RangeError('not a date');
  const out: Partial<Record<Part, string>> = {};
  for (const { type, value } of formatter(locale, timeZone, options).formatToParts(date)) {
    if (type === 'weekday' || type === 'day' || type === 'month' || type === 'year' || type === 'hour' || type === 'minute') out[type] = value;
  }
  return out;
}

/** "14:05", 24-hour clock, in the given IANA zone. */
export function formatTime(locale: TimeLocale, iso: string, timeZone: string): string {
  const { hour, minute } = partsOf(locale, iso, timeZone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return `${hour}:${minute}`;
}

/** fr "lundi 23 novembre 2026 à 14:05", en "Monday 23 November 2026 at 14:05". */
export function formatDateTime(locale: TimeLocale, iso: string, timeZone: string): string {
  const { weekday, day, month, year } = partsOf(locale, iso, timeZone, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  return `${weekday} ${dayOf(locale, day)} ${month} ${year} ${AT[locale]} ${formatTime(locale, iso, timeZone)}`;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/** The zone's offset from UTC at an instant, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  const p: Record<string, number> = {};
  for (const { type, value } of formatter('en', timeZone, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(instant))) {
    if (type !== 'literal') p[type] = Number(value);
  }
  return Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0) - Math.floor(instant / 1000) * 1000;
}

/**
 * A wall-clock time typed in a form (`YYYY-MM-DDTHH:MM`, a datetime-local field) read in the
 * site's zone; null when it is not one. A time in the hour of a change of offset (skipped in
 * spring, repeated in autumn) gets one of its two readings.
 */
export function instantFromLocal(local: string, timeZone: string): Date | null {
  const m = LOCAL.exec(local);
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number];
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  const check = new Date(asUtc);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59) return null;
  // Two passes: the offset before and after a change of offset may differ.
  const first = asUtc - offsetAt(asUtc, timeZone);
  const second = asUtc - offsetAt(first, timeZone);
  return new Date(Math.min(first, second));
}

/** The instant as a datetime-local value (`YYYY-MM-DDTHH:MM`) in the site's zone. */
export function localFromInstant(instant: Date, timeZone: string): string {
  const shifted = new Date(instant.getTime() + offsetAt(instant.getTime(), timeZone));
  return shifted.toISOString().slice(0, 16);
}
