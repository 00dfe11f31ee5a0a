import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfField } from '../../web/csrf.ts';
import { input } from '../../web/forms.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { t, type Locale } from '../../web/i18n.ts';

/**
 * The "choose a password" form shared by activation, recovery and the security page. The
 * passwords typed are never sent back in the page, even on error.
 */
export function newPasswordFields(locale: Locale, errors: { password?: string; confirm?: string } = {}): SafeHtml {
  return html`${input({ id: 'password', label: t(locale, 'newPassword.label'), hint: t(locale, 'newPassword.hint'), type: 'password', autocomplete: 'new-password', maxlength: 1000, error: errors.password })}
${input({ id: 'confirm', label: t(locale, 'newPassword.confirm'), type: 'password', autocomplete: 'new-password', maxlength: 1000, error: errors.confirm })}`;
}

export function newPasswordForm(o: {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  action: string;
  /** Fields shown before the new password (the current password on the security page). */
  before?: SafeHtml;
  errors?: { password?: string; confirm?: string };
}): SafeHtml {
  return html`<form method="post" action="${o.action}" novalidate>
  ${csrfField(o.request, o.reply)}
  <input type="hidden" name="method" value="password">
  ${o.before ?? ''}
  ${newPasswordFields(o.locale, o.errors)}
  <button class="fr-btn" type="submit">${t(o.locale, 'newPassword.submit')}</button>
</form>`;
}
