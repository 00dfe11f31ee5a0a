import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatTime } from '../../../time-format.ts';
import { clientOf } from '../../../web/client.ts';
import { csrfBinding } from '../../../web/csrf.ts';
import { alert, field, narrow } from '../../../web/forms.ts';
import type { SafeHtml } from '../../../web/html.ts';
import { localeOf, t, type Locale } from '../../../web/i18n.ts';
import { sendPage } from '../../../web/layout.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import type { ThrottleVerdict } from '../../throttle.ts';
import type { CodeFlowSpec } from './spec.ts';

/**
 * GET and POST `base`: the flow's first form. Well-formed, it always starts a flow and
 * redirects to it (see requestCodeFlow); only a format error or the client throttle keep the
 * form on screen, with what was typed.
 */
export function firstFormRoutes<Typed>(app: FastifyInstance, deps: AuthDeps, spec: Pick<CodeFlowSpec<Typed>, 'base' | 'firstForm'>): void {
  const { base, firstForm } = spec;

  function form(request: FastifyRequest, reply: FastifyReply, typed: Partial<Typed>, status: number, warning?: SafeHtml): FastifyReply {
    const locale = localeOf(request);
    return sendPage(reply, { request, locale, title: t(locale, firstForm.title), main: narrow(firstForm.render({ request, reply, locale, alert: warning, ...typed })), status });
  }

  /** Only the client counter applies to a first form (no password is tried), and it always has an end. */
  function throttled(reply: FastifyReply, locale: Locale, verdict: Exclude<ThrottleVerdict, { ok: true }>): SafeHtml {
    const { clock, policy, timeZone } = deps;
    const retryAt = 'retryAt' in verdict ? verdict.retryAt : new Date(clock.now().getTime() + policy.ipWindow * 1000);
    reply.header('retry-after', Math.max(1, Math.ceil((retryAt.getTime() - clock.now().getTime()) / 1000)));
    return alert('error', t(locale, 'login.throttled.title'), t(locale, firstForm.throttled, { time: formatTime(locale, retryAt.toISOString(), timeZone) }));
  }

  app.get(base, async (request, reply) => form(request, reply, {}, 200));

  app.post(base, async (request, reply) => {
    if (field(request, 'method') !== 'email-code') return reply.code(400).send();
    const locale = localeOf(request);
    const read = firstForm.read(request, locale);
    if (!read.ok) return form(request, reply, read.typed, 400);
    const result = await read.start({ client: clientOf(request), csrfBinding: csrfBinding(request, reply), locale, requestId: request.id });
    if (result.ok) return reply.redirect(`${base}/${result.flowId}`, 303);
    return form(request, reply, read.typed, 429, throttled(reply, locale, result.verdict));
  });
}
