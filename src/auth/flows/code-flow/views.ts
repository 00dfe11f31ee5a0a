import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, type SafeHtml } from '../../../web/html.ts';
import { t, type Locale, type MessageKey } from '../../../web/i18n.ts';
import { newPasswordForm } from '../new-password-view.ts';

/** Step 3, once the code is verified: the (new) password, with the flow's own title and lead. */
export function choosePasswordPage(
  o: { request: FastifyRequest; reply: FastifyReply; locale: Locale; action: string; errors?: { password?: string; confirm?: string } },
  messages: { title: MessageKey; lead: MessageKey },
): SafeHtml {
  return html`<h1>${t(o.locale, messages.title)}</h1>
<p>${t(o.locale, messages.lead)}</p>
${newPasswordForm(o)}`;
}
