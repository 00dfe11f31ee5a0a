import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findAccountByNir } from '../../accounts/accounts.ts';
import { parseNir } from '../../accounts/nir.ts';
import { audit } from '../../audit/log.ts';
import type { AuthDeps } from '../../auth/auth-deps.ts';
import { clientAllowed, clientKey } from '../../auth/throttle.ts';
import { system } from '../../db/contexts.ts';
import { CANCEL_PATHS } from '../../mail/templates/bank-details-changed.ts';
import { formatTime } from '../../time-format.ts';
import { clientOf } from '../../web/client.ts';
import { csrfField } from '../../web/csrf.ts';
import { alert, field, input, narrow } from '../../web/forms.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { localeOf, t } from '../../web/i18n.ts';
import { sendPage } from '../../web/layout.ts';
import { cancelHeldChange } from './cancel.ts';
import { CANCEL_CODE_PATTERN, normaliseCancelCode, redeemCancelCode } from './cancel-code.ts';

/** Looked up when the NIR has no account: no code row has it. */
const NO_ACCOUNT = '00000000-0000-0000-0000-000000000000';

type Outcome = { ok: true } | { ok: false; reason: 'refused' | 'too-late' } | { ok: false; reason: 'throttled'; retryAt: Date };

/**
 * The public page named in the notice of a change of bank details (no link: its address is
 * typed): the NIR and the one-time code cancel the held change without logging in, for an
 * owner who no longer has the account. It ends every session of the account and says to
 * change the password. Every refusal reads the same (no NIR is confirmed to have a held change),
 * except "too late", which only the right code gets; requests count against the client's
 * budget of the pages anyone may use with a NIR (activation, recovery).
 */
export async function bankCancelByCodeRoutes(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  const { clock, policy, timeZone } = deps;

  function page(request: FastifyRequest, reply: FastifyReply, action: string, o: { status?: number; nir?: string; nirError?: string; codeError?: string; feedback?: SafeHtml } = {}): FastifyReply {
    const locale = localeOf(request);
    const main = narrow(html`<h1>${t(locale, 'bankCancel.title')}</h1>
  ${o.feedback ?? ''}
  <p>${t(locale, 'bankCancel.lead')}</p>
  <form method="post" action="${action}" novalidate>
    ${csrfField(request, reply)}
    ${input({ id: 'nir', label: t(locale, 'login.nir'), hint: t(locale, 'login.nirHint'), autocomplete: 'off', maxlength: 40, value: o.nir, error: o.nirError, autofocus: true })}
    ${input({ id: 'code', label: t(locale, 'bankCancel.code'), hint: t(locale, 'bankCancel.codeHint'), autocomplete: 'off', maxlength: 20, error: o.codeError })}
    <button class="fr-btn" type="submit">${t(locale, 'bankCancel.submit')}</button>
  </form>
  <p class="fr-mt-4w">${t(locale, 'bankCancel.signedIn')}</p>
  <p><a class="fr-link" href="/login">${t(locale, 'login.title')}</a></p>`);
    return sendPage(reply, { request, locale, title: t(locale, 'bankCancel.title'), main, status: o.status });
  }

  function done(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const locale = localeOf(request);
    const main = narrow(html`<h1>${t(locale, 'bankCancel.done.title')}</h1>
  ${alert('success', t(locale, 'bankCancel.done.title'), t(locale, 'bankCancel.done.body'))}
  <p>${t(locale, 'bankCancel.done.password')}</p>
  <p><a class="fr-btn" href="/recover">${t(locale, 'bankCancel.done.recover')}</a></p>`);
    return sendPage(reply, { request, locale, title: t(locale, 'bankCancel.done.title'), main });
  }

  for (const path of Object.values(CANCEL_PATHS)) {
    app.get(path, async (request, reply) => page(request, reply, path));

    app.post(path, async (request, reply) => {
      const locale = localeOf(request);
      const nirTyped = field(request, 'nir', 40);
      const codeTyped = field(request, 'code', 40);
      const nir = parseNir(nirTyped);
      const codeOk = CANCEL_CODE_PATTERN.test(normaliseCancelCode(codeTyped));
      if (!nir.ok || !codeOk) {
        return page(request, reply, path, { status: 400, nir: nirTyped, nirError: nir.ok ? undefined : nir.error.message[locale], codeError: codeOk ? undefined : t(locale, 'bankCancel.codeFormat') });
      }
      const outcome = await system(deps.db, 'bank-cancel', async (tx): Promise<Outcome> => {
        const verdict = await clientAllowed(tx, clock, policy, clientKey(deps.ring.macKey, clientOf(request).ip));
        if (!verdict.ok) {
          await audit(tx, clock, { type: 'bank-details.cancel-refused', accountId: null, requestId: request.id, payload: { reason: 'throttled', failures: null } });
          return { ok: false, reason: 'throttled', retryAt: 'retryAt' in verdict ? verdict.retryAt : clock.now() };
        }
        const account = await findAccountByNir(tx, deps.ring, nir.nir.value);
        // No account: the same statements on an id that has no code, so the answer takes as long.
        const redeemed = await redeemCancelCode(tx, deps, account?.id ?? NO_ACCOUNT, codeTyped);
        if (!redeemed.ok) {
          await audit(tx, clock, { type: 'bank-details.cancel-refused', accountId: account?.id ?? null, requestId: request.id, payload: { reason: redeemed.reason, failures: redeemed.failures } });
          return { ok: false, reason: redeemed.reason === 'too-late' ? 'too-late' : 'refused' };
        }
        if (!account) throw new Error('a code redeemed without its account');
        const cancelled = await cancelHeldChange(tx, deps, { accountId: account.id, eventId: redeemed.eventId, session: null, locale, requestId: request.id });
        // The code dies with its hold and with a cancellation from the account: a live code always names the held change.
        if (!cancelled.ok) throw new Error(`a live cancellation code named a change that is not held (${cancelled.reason})`);
        return { ok: true };
      });
      if (outcome.ok) return done(request, reply);
      if (outcome.reason === 'throttled') {
        reply.header('retry-after', Math.max(1, Math.ceil((outcome.retryAt.getTime() - clock.now().getTime()) / 1000)));
        return page(request, reply, path, { status: 429, nir: nirTyped, feedback: alert('error', t(locale, 'bankCancel.refused.title'), t(locale, 'bankCancel.throttled', { time: formatTime(locale, outcome.retryAt.toISOString(), timeZone) })) });
      }
      if (outcome.reason === 'too-late') return page(request, reply, path, { status: 410, feedback: alert('warning', t(locale, 'bankCancel.tooLate.title'), t(locale, 'bankCancel.tooLate.body')) });
      return page(request, reply, path, { status: 400, nir: nirTyped, feedback: alert('error', t(locale, 'bankCancel.refused.title'), t(locale, 'bankCancel.refused.body')) });
    });
  }
}
