import { z } from 'zod';
import type { MailLocale } from './types.ts';
import { mailText } from './types.ts';

/**
 * Le navigateur et le système d'une demande, tels que src/web/user-agent.ts les résume.
 * The browser and system of a request, as src/web/user-agent.ts summarises them.
 */
export const deviceParams = { browser: mailText(60).nullable(), os: mailText(60).nullable() };
export const isoInstant = () => z.iso.datetime({ offset: true });

const UNKNOWN: Record<MailLocale, string> = { fr: 'navigateur inconnu', en: 'unknown browser' };
const ON: Record<MailLocale, string> = { fr: 'sous', en: 'on' };

/** fr "Firefox 128 sous Windows 10", en "Firefox 128 on Windows 10"; "navigateur inconnu" when not known. */
export function describeDevice(locale: MailLocale, { browser, os }: { browser: string | null; os: string | null }): string {
  return `${browser ?? UNKNOWN[locale]}${os ? ` ${ON[locale]} ${os}` : ''}`;
}
