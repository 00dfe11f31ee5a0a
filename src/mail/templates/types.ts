import { z } from 'zod';
import { containsLink } from '../no-links.ts';
import type { MailSite } from '../site.ts';

export type MailLocale = 'fr' | 'en';
export const MAIL_LOCALES: readonly MailLocale[] = ['fr', 'en'];
export const isMailLocale = (v: unknown): v is MailLocale => v === 'fr' || v === 'en';

/** A run of text; `strong` marks what the reader must not miss (the address to type). */
export type Inline = string | { strong: string };
export type Paragraph = string | readonly Inline[];

/** What a template says; the layout turns it into text and HTML (and escapes it). */
export interface MailContent {
  subject: string;
  greeting: string;
  paragraphs: readonly Paragraph[];
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export interface MailTemplate<P> {
  readonly params: z.ZodType<P>;
  /** Params are checked at run time: the worker gets them back from a stored row, not from the type system. */
  content(locale: MailLocale, params: unknown, site: MailSite): MailContent;
}

export function defineTemplate<P>(
  params: z.ZodType<P>,
  byLocale: Record<MailLocale, (p: P, site: MailSite) => MailContent>,
): MailTemplate<P> {
  return { params, content: (locale, raw, site) => byLocale[locale](params.parse(raw), site) };
}

/** A parameter shown as text: one line, bounded, and nothing a mail client would make a link of. */
export const mailText = (max = 200) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !/\p{Cc}/u.test(s), 'must be one line without control characters')
    .refine((s) => !containsLink(s), 'must not look like a link');
