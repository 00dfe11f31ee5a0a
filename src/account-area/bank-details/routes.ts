import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ensureSensitive } from '../../auth/sensitive.ts';
import { UUID } from '../../db/contexts.ts';
import { readBankDetails } from '../../file/projections/bank-details.ts';
import { carries, citizenRequest } from '../../isolation/citizen-request.ts';
import { clientOf } from '../../web/client.ts';
import { alert, field } from '../../web/forms.ts';
import type { SafeHtml } from '../../web/html.ts';
import { localeOf, t } from '../../web/i18n.ts';
import type { AccountDeps } from '../account-deps.ts';
import { sendAccountPage } from '../account-page.ts';
import { shownMark } from '../contact/shown.ts';
import { cancelHeldChange } from './cancel.ts';
import { BANK_PART, changeBankDetails, shownDetails } from './change.ts';
import { parseBankForm, type BankForm, type BankFormErrors } from './form.ts';
import { describeHold, holdSecondsOf } from './hold.ts';
import { bankPage, isBankNotice } from './views.ts';

const PAGE = '/account/bank-details';

interface Shown {
  status?: number;
  changeAlert?: SafeHtml;
  cancelAlert?: SafeHtml;
  typed?: BankForm;
  errors?: BankFormErrors;
}

/**
 * "Coordonnées bancaires": the IBAN in force (masked), a held change with its date and its
 * cancellation, and the change form. A change is a sensitive operation (step-up, the form kept
 * through it); a cancellation is not (CSRF only): stopping a change must stay easy.
 */
export async function bankDetailsRoutes(app: FastifyInstance, deps: AccountDeps): Promise<void> {
  const { clock, timeZone } = deps;
  const holdSeconds = holdSecondsOf(deps);

  async function show(request: FastifyRequest, reply: FastifyReply, o: Shown = {}): Promise<FastifyReply> {
    const locale = localeOf(request);
    const { accountId, view } = await citizenRequest(deps, request, async (tx, session) => ({
      accountId: session.accountId,
      view: await readBankDetails(tx, deps.ring, session.accountId, clock.now()),
    }));
    carries(request, view?.accountId ?? accountId);
    const done = (request.query as Record<string, unknown> | undefined)?.done;
    const main = bankPage({
      ...o,
      request,
      reply,
      locale,
      timeZone,
      view,
      hold: describeHold(locale, holdSeconds),
      shown: shownMark(deps.ring, accountId, BANK_PART, shownDetails(view)),
      notice: isBankNotice(done) ? done : undefined,
    });
    return sendAccountPage(reply, { request, title: t(locale, 'bank.title'), current: 'bank-details', main, status: o.status });
  }

  app.get(PAGE, async (request, reply) => show(request, reply));

  app.post(PAGE, async (request, reply) => {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    const locale = localeOf(request);
    const typed: BankForm = { iban: field(request, 'iban', 100), holder: field(request, 'holder', 400) };
    const notChanged = (body: string): SafeHtml => alert('error', t(locale, 'bank.notChanged'), body);
    // Checked before the step-up, so that a typo does not cost one; nothing here reads the file.
    const parsed = parseBankForm(typed);
    if (!parsed.ok) return show(request, reply, { status: 400, changeAlert: notChanged(t(locale, 'bank.fix')), typed, errors: parsed.errors });
    // The form (IBAN, holder, shown mark) is kept through the step-up and posted again here.
    if (!(await ensureSensitive(deps, request, reply, session, PAGE))) return reply;
    const outcome = await citizenRequest(deps, request, (tx, s) =>
      changeBankDetails(tx, deps, s, { details: parsed.details, shown: field(request, 'shown', 100), holdSeconds, locale, client: clientOf(request), requestId: request.id }),
    );
    if (outcome.ok) return reply.redirect(`${PAGE}?done=changed`, 303);
    switch (outcome.reason) {
      case 'stale':
        return show(request, reply, { status: 409, changeAlert: alert('warning', t(locale, 'bank.stale.title'), t(locale, 'bank.stale.body')), typed });
      case 'unchanged':
        return show(request, reply, { changeAlert: alert('info', t(locale, 'bank.unchanged')) });
      case 'pending':
        return show(request, reply, { status: 409, cancelAlert: alert('warning', t(locale, 'bank.pendingAlready')) });
      case 'no-email':
        return show(request, reply, { status: 409, changeAlert: notChanged(t(locale, 'bank.noEmail')), typed });
    }
  });

  // No step-up to cancel: the owner of a phished account must be able to stop a change with
  // what they still have. The form names the change it cancels, so a stale page cancels nothing else.
  app.post(`${PAGE}/cancel`, async (request, reply) => {
    const locale = localeOf(request);
    const change = field(request, 'change', 40);
    if (!UUID.test(change)) return show(request, reply, { status: 400, cancelAlert: alert('info', t(locale, 'bank.cancel.nothing')) });
    const outcome = await citizenRequest(deps, request, (tx, session) => cancelHeldChange(tx, deps, { accountId: session.accountId, eventId: change, session, locale, requestId: request.id }));
    if (outcome.ok) return reply.redirect(`${PAGE}?done=cancelled`, 303);
    if (outcome.reason === 'too-late') return show(request, reply, { status: 409, cancelAlert: alert('warning', t(locale, 'bank.cancel.tooLate.title'), t(locale, 'bank.cancel.tooLate.body')) });
    return show(request, reply, { status: 409, cancelAlert: alert('info', t(locale, 'bank.cancel.nothing')) });
  });
}
