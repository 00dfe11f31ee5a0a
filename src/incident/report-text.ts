import { formatDateTime } from '../time-format.ts';
import type { StepSummary } from './incidents.ts';
import { accessDirection, type Count, type Measure } from './report.ts';

/** What the Article 33 draft and the Article 34 text share: languages, numbers, times, durations, step sentences. */

export const REPORT_LANGS = ['fr', 'en'] as const;
export type ReportLang = (typeof REPORT_LANGS)[number];

const NUMBER: Record<ReportLang, Intl.NumberFormat> = { fr: new Intl.NumberFormat('fr-FR'), en: new Intl.NumberFormat('en-GB') };

export const num = (lang: ReportLang, n: number): string => NUMBER[lang].format(n);

/** "environ 7 000 (exactement 6 987)", or the exact figure alone when it is not rounded. */
export function about(lang: ReportLang, c: Count): string {
  if (c.approximately === c.exact) return num(lang, c.exact);
  return lang === 'fr' ? `environ ${num(lang, c.approximately)} (exactement ${num(lang, c.exact)})` : `approximately ${num(lang, c.approximately)} (exactly ${num(lang, c.exact)})`;
}

/** An instant in the site's zone, with the zone named (the reader may be elsewhere). */
export const when = (lang: ReportLang, iso: string, timeZone: string): string => `${formatDateTime(lang, iso, timeZone)} (${timeZone})`;

/** A span of minutes: "61 h 12 min" up to four days, then "5 j 3 h" / "5 d 3 h". */
export function duration(lang: ReportLang, minutes: number): string {
  const m = Math.abs(minutes);
  if (m < 96 * 60) return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
  const days = Math.floor(m / 1440);
  return `${num(lang, days)} ${lang === 'fr' ? 'j' : 'd'} ${Math.floor((m % 1440) / 60)} h`;
}

const str = (s: StepSummary, key: string): string | null => (typeof s[key] === 'string' ? (s[key] as string) : null);
const int = (s: StepSummary, key: string): number | null => (typeof s[key] === 'number' ? (s[key] as number) : null);

/** The step's options and counts as recorded, `key=value`: the wording of each command's summary is its own. */
export function details(summary: StepSummary): string {
  return Object.entries(summary)
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

/** One line of the timeline, for the operator and the authority. */
export function stepSentence(lang: ReportLang, m: Measure): string {
  const s = m.summary;
  const fr = lang === 'fr';
  switch (m.step) {
    case 'opened':
      return fr ? 'Incident ouvert' : 'Incident opened';
    case 'access': {
      const scope = str(s, 'scope');
      const where = scope ? (fr ? ` (périmètre : ${scope})` : ` (scope: ${scope})`) : '';
      const dir = accessDirection(s);
      if (dir === 'close') return (fr ? 'Accès fermé' : 'Access closed') + where;
      if (dir === 'open') return (fr ? 'Accès rouvert' : 'Access reopened') + where;
      return (fr ? 'Accès modifié' : 'Access changed') + where;
    }
    case 'cohort': {
      const total = int(s, 'total') ?? int(s, 'members');
      const n = total === null ? '' : fr ? ` : ${num(lang, total)} personnes` : `: ${num(lang, total)} people`;
      return (fr ? 'Cohorte des personnes concernées calculée' : 'Cohort of the people concerned computed') + n;
    }
    case 'cancel':
      return fr ? 'Annulation des modifications faites pendant la période' : 'Changes made during the window cancelled';
    case 'reset-credentials':
      return fr ? 'Identifiants des personnes concernées réinitialisés (sessions fermées, nouveau mot de passe exigé)' : 'Credentials of the people concerned reset (sessions ended, new password required)';
    case 'notify':
      return fr ? 'Notification des personnes concernées' : 'People concerned notified';
    case 'report':
      return fr ? 'Projet de notification à l’autorité rédigé' : 'Draft notification to the authority prepared';
    case 'closed':
      return fr ? 'Incident clos' : 'Incident closed';
  }
}
