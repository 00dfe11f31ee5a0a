import type { MailSite } from '../site.ts';
import type { Inline, MailContent, MailLocale, Paragraph, RenderedMail } from './types.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** Said at the end of every mail: the rule that makes a phishing mail with a link stand out. */
const FOOTER: Record<MailLocale, (site: MailSite) => Paragraph[]> = {
  fr: ({ serviceName, siteAddress }) => [
    [
      `${serviceName} ne met jamais de lien dans ses messages. Pour vous connecter, tapez vous-même l’adresse `,
      { strong: siteAddress },
      ` dans votre navigateur. Un message à notre nom qui vous invite à cliquer sur un lien est une tentative de fraude\u00a0: ne cliquez pas.`,
    ],
    `Ce message est envoyé automatiquement, merci de ne pas y répondre.`,
  ],
  en: ({ serviceName, siteAddress }) => [
    [
      `${serviceName} never puts links in its messages. To sign in, type the address `,
      { strong: siteAddress },
      ` into your browser yourself. A message in our name asking you to click a link is a fraud attempt: do not click.`,
    ],
    `This message was sent automatically, please do not reply.`,
  ],
};

const parts = (p: Paragraph): readonly Inline[] => (typeof p === 'string' ? [p] : p);
const plain = (p: Paragraph): string => parts(p).map((i) => (typeof i === 'string' ? i : i.strong)).join('');
const html = (p: Paragraph): string =>
  parts(p).map((i) => (typeof i === 'string' ? escapeHtml(i) : `<strong>${escapeHtml(i.strong)}</strong>`)).join('');

const P = 'margin:0 0 16px;';
const SMALL = 'margin:0 0 12px;font-size:14px;color:#3a3a3a;';

/** Simple, accessible HTML: no images, no links, no scripts, styles inline (mail clients drop the rest). */
export function layout(locale: MailLocale, content: MailContent, site: MailSite): RenderedMail {
  const subject = content.subject.replace(/\s+/g, ' ').trim();
  const footer = FOOTER[locale](site);
  // "-- " on its own line is the signature delimiter mail clients recognise.
  const text = `${[content.greeting, ...content.paragraphs.map(plain)].join('\n\n')}\n\n-- \n${footer.map(plain).join('\n\n')}\n`;
  const body = [
    `<p style="${P}font-size:20px;font-weight:bold;">${escapeHtml(site.serviceName)}</p>`,
    `<p style="${P}">${escapeHtml(content.greeting)}</p>`,
    ...content.paragraphs.map((p) => `<p style="${P}">${html(p)}</p>`),
    `<hr style="border:0;border-top:1px solid #dddddd;margin:24px 0;">`,
    ...footer.map((p) => `<p style="${SMALL}">${html(p)}</p>`),
  ];
  const page = `<!DOCTYPE html>
<html lang="${locale}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(subject)}</title>
</head>
<body style="margin:0;padding:0;background:#f6f6f6;">
<div role="article" aria-label="${escapeHtml(subject)}" lang="${locale}" style="max-width:600px;margin:0 auto;padding:24px;background:#ffffff;color:#161616;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;">
${body.join('\n')}
</div>
</body>
</html>
`;
  return { subject, text, html: page };
}
