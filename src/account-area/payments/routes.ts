import type { FastifyInstance } from 'fastify';
import type { PaymentView } from '../../file/projections/payments.ts';
import { listPayments } from '../../file/projections/payments.ts';
import { carries, citizenRequest } from '../../isolation/citizen-request.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { localeOf, t, type Locale } from '../../web/i18n.ts';
import type { AccountDeps } from '../account-deps.ts';
import { sendAccountPage } from '../account-page.ts';
import { table } from '../../web/table.ts';
import { benefitLabel } from './benefits.ts';
import { formatDay, formatEuros } from './format.ts';

/** "Mes paiements": what the agency paid or will pay, newest first (read-only: the agency's records). */

const STATUS_BADGE: Record<PaymentView['status'], string> = { paid: 'fr-badge--success', scheduled: 'fr-badge--info', cancelled: '' };

export function paymentsTable(locale: Locale, payments: readonly PaymentView[]): SafeHtml {
  return table({
    id: 'payments',
    caption: t(locale, 'payments.caption'),
    hideCaption: true,
    headers: [t(locale, 'payments.date'), t(locale, 'payments.benefit'), t(locale, 'payments.amount'), t(locale, 'payments.status'), t(locale, 'payments.iban')],
    rows: payments.map(
      (p) => html`<tr data-payment="${p.reference}">
      <td>${formatDay(locale, p.date)}</td>
      <td>${benefitLabel(locale, p.benefit)}</td>
      <td>${formatEuros(locale, p.amountCents)}</td>
      <td><p class="fr-badge fr-badge--sm ${STATUS_BADGE[p.status]} fr-badge--no-icon">${t(locale, `payments.status.${p.status}`)}</p></td>
      <td>${p.ibanMasked ? html`<span class="sesame-iban">${p.ibanMasked}</span>` : t(locale, 'payments.noIban')}</td>
    </tr>`,
    ),
  });
}

export async function paymentRoutes(app: FastifyInstance, deps: AccountDeps): Promise<void> {
  app.get('/account/payments', async (request, reply) => {
    const payments = await citizenRequest(deps, request, (tx, session) => listPayments(tx, deps.ring, session.accountId));
    carries(request, ...payments.map((p) => p.accountId));
    const locale = localeOf(request);
    const main = html`<p class="fr-text--lead">${t(locale, 'payments.lead')}</p>
${payments.length === 0 ? html`<p id="no-payments">${t(locale, 'payments.none')}</p>` : paymentsTable(locale, payments)}`;
    return sendAccountPage(reply, { request, title: t(locale, 'payments.title'), current: 'payments', main });
  });
}
