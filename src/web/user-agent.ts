import Bowser from 'bowser';

/**
 * Résumé lisible d'un User-Agent (« Firefox 128 », « Windows 10 ») pour les mails et la page
 * Sécurité du compte. Le User-Agent vient de n'importe qui : seuls des noms que bowser connaît
 * et des numéros de version passent, pour qu'il ne puisse pas glisser un texte ou un lien dans un mail.
 * A readable summary of a User-Agent for mails and the security page. Anyone can send any
 * User-Agent: only names bowser knows and version numbers get through, so that it cannot
 * slip text or a link into a mail.
 */
export interface UserAgentSummary {
  browser: string | null;
  os: string | null;
}

const MAX = 60;
// Au-delà, ce n'est pas un vrai navigateur ; borne aussi le coût des expressions de bowser.
// Longer is no real browser; also bounds the cost of bowser's regular expressions.
const MAX_INPUT = 1024;

const KNOWN_BROWSERS = new Set(Object.values(Bowser.BROWSER_MAP));
const KNOWN_OS = new Set(Object.values(Bowser.OS_MAP));

/** Only what a mail can show as plain text: letters, digits, space, dot, hyphen, parentheses. */
function clean(s: string): string | null {
  const out = s.replace(/[^\p{L}\p{N} .()-]/gu, '').replace(/\s+/g, ' ').trim().slice(0, MAX).trim();
  return out === '' ? null : out;
}

const major = (version: string | undefined): string => /^\d{1,4}/.exec(version ?? '')?.[0] ?? '';

function browserOf(name: string | undefined, version: string | undefined): string | null {
  if (!name || !KNOWN_BROWSERS.has(name)) return null;
  return clean(`${name} ${major(version)}`);
}

function osOf(name: string | undefined, version: string | undefined, versionName: string | undefined): string | null {
  if (!name || !KNOWN_OS.has(name)) return null;
  // Les User-Agents de macOS sont figés à 10.15.7 : la version ne dirait rien de vrai.
  // macOS User-Agents are frozen at 10.15.7: the version would say nothing true.
  if (name === 'macOS') return name;
  // Windows : bowser donne « 10 », « 7 », « XP » ; 11 s'annonce comme 10.
  // Windows: bowser gives "10", "7", "XP"; 11 announces itself as 10.
  if (name === 'Windows') return clean(`${name} ${versionName ?? ''}`);
  return clean(`${name} ${major(version)}`);
}

// Parsing runs dozens of regular expressions and a few browsers send most requests: keep the
// last answers (bounded, oldest dropped first).
const recent = new Map<string, UserAgentSummary>();
const RECENT_MAX = 500;

export function describeUserAgent(ua: string | undefined): UserAgentSummary {
  if (typeof ua !== 'string' || ua.trim() === '' || ua.length > MAX_INPUT) return { browser: null, os: null };
  const known = recent.get(ua);
  if (known) return { ...known };
  try {
    const { browser, os } = Bowser.parse(ua);
    const summary = { browser: browserOf(browser.name, browser.version), os: osOf(os.name, os.version, os.versionName) };
    if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value as string);
    recent.set(ua, summary);
    return { ...summary };
  } catch {
    // bowser lève sur certaines entrées ; un résumé inconnu vaut mieux qu'une erreur. / Unknown beats an error.
    return { browser: null, os: null };
  }
}
