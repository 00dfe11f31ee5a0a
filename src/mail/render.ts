import { containsLink } from './no-links.ts';
import { checkSite, type MailSite } from './site.ts';
import { isTemplateName, templates, type MailTemplateName, type MailTemplates } from './templates/catalogue.ts';
import { layout } from './templates/layout.ts';
import { isMailLocale, type MailLocale, type RenderedMail } from './templates/types.ts';

export type MailRenderFailure = 'unknown-template' | 'unknown-locale' | 'invalid-params' | 'contains-link';

/** Carries a reason code only: the message never quotes the parameters (they are PII). */
export class MailRenderError extends Error {
  override name = 'MailRenderError';
  readonly reason: MailRenderFailure;
  constructor(reason: MailRenderFailure, template: string) {
    super(`cannot render mail ${JSON.stringify(template.slice(0, 64))}: ${reason}`);
    this.reason = reason;
  }
}

export function renderMail<T extends MailTemplateName>(template: T, locale: MailLocale, params: MailTemplates[T], site: MailSite): RenderedMail {
  return renderStored(template, locale, params, site);
}

/** For the worker: name, locale and params come back from a stored row, so all are checked at run time. */
export function renderStored(template: string, locale: string, params: unknown, site: MailSite): RenderedMail {
  checkSite(site);
  if (!isTemplateName(template)) throw new MailRenderError('unknown-template', template);
  if (!isMailLocale(locale)) throw new MailRenderError('unknown-locale', template);
  if (containsLink(JSON.stringify(params) ?? '')) throw new MailRenderError('contains-link', template);
  let content;
  try {
    content = templates[template].content(locale, params, site);
  } catch {
    throw new MailRenderError('invalid-params', template);
  }
  const mail = layout(locale, content, site);
  // Last line of defence, whatever a template or a parameter did: the site's own address
  // is the only host a mail may name.
  for (const part of [mail.subject, mail.text, mail.html]) {
    if (containsLink(part.split(site.siteAddress).join(' '))) throw new MailRenderError('contains-link', template);
  }
  return mail;
}
