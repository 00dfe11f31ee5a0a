import type { FastifyRequest } from 'fastify';
import { checkPassword, normalisePassword } from '../../accounts/password-policy.ts';
import { field } from '../../web/forms.ts';
import { t, type Locale } from '../../web/i18n.ts';

/** The new password of a submitted form, checked against the policy, or what is wrong with it. */
export function readNewPassword(
  request: FastifyRequest,
  locale: Locale,
  context: { nir?: string } = {},
): { ok: true; password: string } | { ok: false; errors: { password?: string; confirm?: string } } {
  const password = field(request, 'password', 1000);
  const confirm = field(request, 'confirm', 1000);
  const problem = checkPassword(password, context);
  if (problem) return { ok: false, errors: { password: problem.message[locale] } };
  if (normalisePassword(password) !== normalisePassword(confirm)) return { ok: false, errors: { confirm: t(locale, 'newPassword.mismatch') } };
  return { ok: true, password: normalisePassword(password) };
}
