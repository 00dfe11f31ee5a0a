import type { Config } from '../config.ts';
import { containsLink } from './no-links.ts';

/** What mails say about the site: its name and the address people must type themselves. */
export interface MailSite {
  serviceName: string;
  /** Public host as plain text ("sesame.example.gouv.fr", port allowed), never a URL. */
  siteAddress: string;
  /** IANA zone in which mails give times ("expires at 14:05"). */
  timeZone: string;
}

const HOST = /^(?=[^:]{1,253}(:\d{1,5})?$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$/i;

export class MailSiteError extends Error {
  override name = 'MailSiteError';
}

export function checkSite(site: MailSite): void {
  if (!HOST.test(site.siteAddress)) throw new MailSiteError('siteAddress must be a bare host name (no scheme, no path)');
  const name = site.serviceName.trim();
  if (name === '' || /\p{Cc}/u.test(name) || containsLink(name)) throw new MailSiteError('serviceName must be one line of plain text');
}

export function siteFromConfig(config: Pick<Config, 'serviceName' | 'publicUrl' | 'timeZone'>): MailSite {
  return { serviceName: config.serviceName, siteAddress: config.publicUrl.host, timeZone: config.timeZone };
}

/** Host part of the address, for Message-ID headers. */
export const siteHost = (site: MailSite): string => site.siteAddress.replace(/:\d+$/, '').toLowerCase();

/**
 * One Message-ID per outbox row, stable across attempts: a redelivery after a crash carries
 * the same id, so receiving systems (and people) can recognise it as the same message.
 */
export const messageIdFor = (outboxId: string, site: MailSite): string => `<${outboxId}@${siteHost(site)}>`;
