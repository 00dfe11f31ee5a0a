import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readAccount, readEmail, type Account } from '../../accounts/accounts.ts';
import { sendRefusalMessage, verifyRefusalMessage } from '../../auth/flows/code-messages.ts';
import type { FlowProblem } from '../../auth/flows/flow.ts';
import { ensureEnrolmentAllowed } from '../../auth/sensitive.ts';
import { carries, citizenRequest } from '../../isolation/citizen-request.ts';
import { clientOf } from '../../web/client.ts';
import { csrfBinding } from '../../web/csrf.ts';
import { alert, field } from '../../web/forms.ts';
import { localeOf, t } from '../../web/i18n.ts';
import type { AccountDeps } from '../account-deps.ts';
import { sendAccountPage } from '../account-page.ts';
import { parseAddress, type AddressForm } from './address.ts';
import { changeContact, type ContactPart } from './change.ts';
import { applyEmailChange } from './email-apply.ts';
import { emailChangeState, parseNewEmail, resendEmailChangeCode, startEmailChange, verifyEmailChange } from './email-change.ts';
import { emailChangeOver, emailCodePage } from './email-views.ts';
import { parsePhone } from './phone.ts';
import { shownMark } from './shown.ts';
import { contactPage, isContactNotice, type ContactPage, type ContactSection } from './views.ts';

const PAGE = '/account/contact';
const EMAIL = `${PAGE}/email`;

type Shown = Omit<ContactPage, 'request' | 'reply' | 'locale' | 'contact' | 'shown'> & { status?: number };

/**
 * "Coordonnées": the email address (changed through a code sent to the new address, after a
 * re-authentication), the telephone and the postal address (changed at once). Behind the
 * area's requireSession; every read and write goes through citizenRequest.
 */
export async function contactRoutes(app: FastifyInstance, deps: AccountDeps): Promise<void> {
  const { clock, timeZone, policy } = deps;

  async function show(request: FastifyRequest, reply: FastifyReply, o: Shown = {}): Promise<FastifyReply> {
    const locale = localeOf(request);
    const account: Account | null = await citizenRequest(deps, request, (tx, session) => readAccount(tx, deps.ring, session.accountId));
    if (!account) return reply.redirect('/login', 303);
    carries(request, account.id);
    const done = (request.query as Record<string, unknown> | undefined)?.done;
    const shown = {
      phone: shownMark(deps.ring, account.id, 'contact.phone-changed', account.contact.phone),
      address: shownMark(deps.ring, account.id, 'contact.address-changed', account.contact.postalAddress),
    };
    const main = contactPage({ ...o, request, reply, locale, contact: account.contact, shown, notice: o.notice ?? (isContactNotice(done) ? done : undefined) });
    return sendAccountPage(reply, { request, title: t(locale, 'contact.title'), current: 'contact', main, status: o.status });
  }

  function refusal(request: FastifyRequest, section: ContactSection, kind: 'invalid' | 'stale' | 'unchanged'): NonNullable<ContactPage['refused']> {
    const locale = localeOf(request);
    if (kind === 'invalid') return { section, alert: alert('error', t(locale, 'contact.notChanged'), t(locale, 'contact.fix')) };
    if (kind === 'stale') return { section, alert: alert('warning', t(locale, 'contact.stale.title'), t(locale, 'contact.stale.body')) };
    return { section, alert: alert('info', t(locale, 'contact.unchanged')) };
  }

  app.get(PAGE, async (request, reply) => show(request, reply));

  /** Telephone and postal address: validated here, applied at once (no re-authentication: neither receives codes). */
  async function applyChange(request: FastifyRequest, reply: FastifyReply, section: 'phone' | 'address', part: ContactPart, after: string | null, typed: Shown['typed'], done: string): Promise<FastifyReply> {
    const shown = field(request, 'shown', 100);
    const outcome = await citizenRequest(deps, request, (tx, session) => changeContact(tx, deps, session, { part, after, shown, requestId: request.id }));
    if (outcome.ok) return reply.redirect(`${PAGE}?done=${done}`, 303);
    // Stale: the current values are shown beside what was typed, which is kept.
    return show(request, reply, { status: outcome.reason === 'stale' ? 409 : 200, refused: refusal(request, section, outcome.reason), typed });
  }

  app.post(`${PAGE}/phone`, async (request, reply) => {
    const typed = field(request, 'phone', 100);
    if (typed.trim() === '') return applyChange(request, reply, 'phone', 'contact.phone-changed', null, { phone: '' }, 'phone-removed');
    const phone = parsePhone(typed);
    if (!phone.ok) return show(request, reply, { status: 400, refused: refusal(request, 'phone', 'invalid'), typed: { phone: typed }, errors: { phone: phone.problem } });
    return applyChange(request, reply, 'phone', 'contact.phone-changed', phone.e164, { phone: typed }, 'phone-changed');
  });

  app.post(`${PAGE}/address`, async (request, reply) => {
    const typed: AddressForm = {
      street: field(request, 'street', 200),
      complement: field(request, 'complement', 200),
      postcode: field(request, 'postcode', 40),
      city: field(request, 'city', 200),
      country: field(request, 'country', 200),
    };
    const address = parseAddress(typed);
    if (!address.ok) return show(request, reply, { status: 400, refused: refusal(request, 'address', 'invalid'), typed: { address: typed }, errors: { address: address.errors } });
    return applyChange(request, reply, 'address', 'contact.address-changed', address.value, { address: typed }, 'address-changed');
  });

  // The email address receives the login codes: changing it is a sensitive operation (DESIGN:
  // eidas2 within the last minutes). An account with no usable strong method would be stuck,
  // so there, as for enrolling a first method, a fresh code to the current address stands in
  // for the step-up (ensureEnrolmentAllowed). Either way the new address must then prove itself.
  app.post(EMAIL, async (request, reply) => {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    const locale = localeOf(request);
    const typed = field(request, 'email', 320);
    const invalid = (problem: 'required' | 'invalid' | 'same'): Promise<FastifyReply> =>
      show(request, reply, { status: 400, refused: refusal(request, 'email', 'invalid'), typed: { email: typed }, errors: { email: problem } });
    // The form is checked before the re-authentication, so that a typo does not cost one.
    const syntax = parseNewEmail(typed, null);
    if (!syntax.ok) return invalid(syntax.problem);
    const gate = await ensureEnrolmentAllowed(deps, request, reply, session, EMAIL);
    if (!gate.allowed) return reply;
    const current = await citizenRequest(deps, request, (tx, s) => readEmail(tx, deps.ring, s.accountId));
    const parsed = parseNewEmail(typed, current);
    if (!parsed.ok) return invalid(parsed.problem);
    const started = await startEmailChange(deps, {
      accountId: session.accountId,
      sessionId: session.id,
      csrfBinding: csrfBinding(request, reply),
      addresses: { from: current, to: parsed.email },
      locale,
      client: clientOf(request),
      requestId: request.id,
    });
    if (!started.ok) {
      return show(request, reply, { status: 429, refused: { section: 'email', alert: alert('error', t(locale, 'contact.notChanged'), sendRefusalMessage(locale, timeZone, started.reason, started.retryAt)) }, typed: { email: typed } });
    }
    return reply.redirect(`${EMAIL}/${started.flowId}`, 303);
  });

  async function over(request: FastifyRequest, reply: FastifyReply, problem: FlowProblem | 'failed'): Promise<FastifyReply> {
    const locale = localeOf(request);
    const status = problem === 'not-found' || problem === 'other-browser' ? 404 : 410;
    return sendAccountPage(reply, { request, title: t(locale, 'contact.email.over.title'), current: 'contact', main: emailChangeOver(locale), status });
  }

  async function showCode(request: FastifyRequest, reply: FastifyReply, flowId: string, status = 200, error?: string): Promise<FastifyReply> {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    const loaded = await emailChangeState(deps, { flowId, sessionId: session.id, csrfBinding: csrfBinding(request, reply) });
    if (!loaded.ok) return over(request, reply, loaded.problem);
    // The page shows an address of this account: the session is proven before it leaves.
    await citizenRequest(deps, request, async () => undefined);
    carries(request, session.accountId);
    const locale = localeOf(request);
    const main = emailCodePage({ request, reply, locale, timeZone, policy, now: clock.now(), flowUrl: `${EMAIL}/${flowId}`, state: loaded.state, error });
    return sendAccountPage(reply, { request, title: t(locale, 'contact.email.code.title'), current: 'contact', main, status });
  }

  app.get<{ Params: { flow: string } }>(`${EMAIL}/:flow`, async (request, reply) => showCode(request, reply, request.params.flow));

  app.post<{ Params: { flow: string } }>(`${EMAIL}/:flow`, async (request, reply) => {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    if (field(request, 'method') !== 'email-code') return reply.code(400).send();
    const { flow } = request.params;
    const locale = localeOf(request);
    const verified = await verifyEmailChange(deps, { flowId: flow, sessionId: session.id, csrfBinding: csrfBinding(request, reply), code: field(request, 'code', 40), requestId: request.id });
    if (!verified.ok) {
      if ('problem' in verified) return over(request, reply, verified.problem);
      if (verified.refusal === 'exhausted') return over(request, reply, 'failed');
      return showCode(request, reply, flow, 400, verifyRefusalMessage(locale, verified.refusal, verified.remaining));
    }
    const applied = await citizenRequest(deps, request, (tx, s) =>
      applyEmailChange(tx, deps, s, { flowId: verified.flowId, addresses: verified.addresses, locale, client: clientOf(request), requestId: request.id }),
    );
    if (applied.ok) return reply.redirect(`${PAGE}?done=email-changed`, 303);
    return show(request, reply, { status: applied.reason === 'stale' ? 409 : 200, refused: refusal(request, 'email', applied.reason) });
  });

  app.post<{ Params: { flow: string } }>(`${EMAIL}/:flow/send`, async (request, reply) => {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    if (field(request, 'method') !== 'email-code') return reply.code(400).send();
    const { flow } = request.params;
    const locale = localeOf(request);
    const sent = await resendEmailChangeCode(deps, { flowId: flow, sessionId: session.id, csrfBinding: csrfBinding(request, reply), locale, client: clientOf(request), requestId: request.id });
    if (sent.ok) return reply.redirect(`${EMAIL}/${flow}`, 303);
    if ('problem' in sent) return over(request, reply, sent.problem);
    return showCode(request, reply, flow, 429, sendRefusalMessage(locale, timeZone, sent.refusal, sent.retryAt));
  });
}
