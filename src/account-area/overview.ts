import type { FastifyInstance } from 'fastify';
import { readAccount } from '../accounts/accounts.ts';
import { authenticatorKinds } from '../auth/authenticators.ts';
import { localDate } from '../file/procedures/dates.ts';
import { readBankDetails, type BankDetailsView } from '../file/projections/bank-details.ts';
import { nextPayment, type PaymentView } from '../file/projections/payments.ts';
import { listProcedures, type ProcedureView } from '../file/projections/procedures.ts';
import { carries, citizenRequest } from '../isolation/citizen-request.ts';
import { formatDateTime } from '../time-format.ts';
import { csrfField } from '../web/csrf.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { tile } from '../web/tile.ts';
import { localeOf, t, type Locale } from '../web/i18n.ts';
import type { AccountDeps } from './account-deps.ts';
import { ACCOUNT_SECTIONS, sendAccountPage } from './account-page.ts';
import { recentSecurityEvents, type SecurityEvent } from './overview-alerts.ts';
import { benefitLabel } from './payments/benefits.ts';
import { formatDay, formatEuros } from './payments/format.ts';
import { submittedOn } from './procedures/views.ts';
import { statusBadge } from './procedures/widgets.ts';

/**
 * GET /account, "Vue d'ensemble": who is logged in, the next payment and where it goes, the
 * last procedures, what deserves a look for the account's security, and the way to every
 * page of the area.
 */

const SECTION_ABOUT = {
  contact: 'overview.sections.contact',
  'bank-details': 'overview.sections.bankDetails',
  procedures: 'overview.sections.procedures',
  payments: 'overview.sections.payments',
  security: 'overview.sections.security',
  export: 'overview.sections.export',
} as const;

/** A DSFR alert whose title is an <h3>: these sit under the section's <h2>. */
function notice(kind: 'info' | 'warning', id: string, title: string, body: SafeHtml): SafeHtml {
  return html`<div class="fr-alert fr-alert--${kind} fr-mb-3w" id="${id}">
  <h3 class="fr-alert__title">${title}</h3>
  ${body}
</div>`;
}

interface Overview {
  locale: Locale;
  timeZone: string;
  strongMethods: number;
  bank: BankDetailsView | null;
  events: SecurityEvent[];
}

function alertsSection(o: Overview): SafeHtml {
  const { locale } = o;
  const items: SafeHtml[] = [];
  if (o.strongMethods === 0) {
    items.push(
      notice('info', 'alert-no-strong-method', t(locale, 'strong.none.title'), html`<p>${t(locale, 'strong.none.body')}</p>
  <p><a class="fr-link" href="/account/security#strong-title">${t(locale, 'strong.enrol')}</a></p>`),
    );
  }
  if (o.bank?.pending && o.bank.effectiveAt) {
    const body = t(locale, 'overview.alerts.bankPending.body', {
      iban: o.bank.masked,
      date: formatDateTime(locale, o.bank.effectiveAt.toISOString(), o.timeZone),
      previous: o.bank.previous?.masked ?? '—',
    });
    items.push(notice('warning', 'alert-bank-pending', t(locale, 'overview.alerts.bankPending.title'), html`<p>${body}</p>
  <p><a class="fr-link" href="/account/bank-details">${t(locale, 'overview.alerts.bankPending.link')}</a></p>`));
  }
  if (o.events.length > 0) {
    const line = (e: SecurityEvent): string =>
      t(locale, `overview.event.${e.type}`, { date: formatDateTime(locale, e.at.toISOString(), o.timeZone), kind: e.kind ? t(locale, `overview.kind.${e.kind}`) : '' });
    items.push(notice('info', 'alert-recent-activity', t(locale, 'overview.alerts.recent.title'), html`<p>${t(locale, 'overview.alerts.recent.body')}</p>
  <ul>${o.events.map((e) => html`<li data-event="${e.type}">${line(e)}</li>`)}</ul>
  <p><a class="fr-link" href="/account/security">${t(locale, 'overview.alerts.recent.link')}</a></p>`));
  }
  return html`<section class="fr-mb-5w" aria-labelledby="alerts-title">
  <h2 id="alerts-title">${t(locale, 'overview.alerts.title')}</h2>
  ${items.length > 0 ? items : html`<p id="no-alerts">${t(locale, 'overview.alerts.none')}</p>`}
</section>`;
}

function nextPaymentSection(locale: Locale, payment: PaymentView | null): SafeHtml {
  return html`<section class="fr-col-12 fr-col-md-6" aria-labelledby="next-payment-title">
  <h2 id="next-payment-title">${t(locale, 'overview.nextPayment.title')}</h2>
  ${
    payment
      ? html`<dl id="next-payment">
    <dt>${t(locale, 'overview.nextPayment.date')}</dt><dd>${formatDay(locale, payment.date)}</dd>
    <dt>${t(locale, 'overview.nextPayment.benefit')}</dt><dd>${benefitLabel(locale, payment.benefit)}</dd>
    <dt>${t(locale, 'overview.nextPayment.amount')}</dt><dd>${formatEuros(locale, payment.amountCents)}</dd>
    <dt>${t(locale, 'overview.nextPayment.iban')}</dt><dd id="next-payment-iban">${payment.ibanMasked ?? t(locale, 'overview.nextPayment.noIban')}</dd>
  </dl>`
      : html`<p id="next-payment-none">${t(locale, 'overview.nextPayment.none')}</p>`
  }
  <p><a class="fr-link fr-icon-arrow-right-line fr-link--icon-right" href="/account/payments">${t(locale, 'overview.nextPayment.all')}</a></p>
</section>`;
}

function proceduresSection(locale: Locale, procedures: readonly ProcedureView[], timeZone: string): SafeHtml {
  return html`<section class="fr-col-12 fr-col-md-6" aria-labelledby="last-procedures-title">
  <h2 id="last-procedures-title">${t(locale, 'overview.procedures.title')}</h2>
  ${
    procedures.length > 0
      ? html`<ul id="last-procedures">
    ${procedures.map(
      (p) => html`<li><a class="fr-link" href="/account/procedures/${p.id}">${t(locale, 'overview.procedures.item', { kind: t(locale, `procedures.kind.${p.kind}`), date: submittedOn(locale, p, timeZone) })}</a> ${statusBadge(locale, p.status)}</li>`,
    )}
  </ul>`
      : html`<p id="last-procedures-none">${t(locale, 'overview.procedures.none')}</p>`
  }
  <ul class="fr-btns-group fr-btns-group--inline-sm">
    <li><a class="fr-btn fr-btn--secondary" href="/account/procedures#catalogue-title">${t(locale, 'overview.procedures.new')}</a></li>
    <li><a class="fr-btn fr-btn--tertiary" href="/account/procedures">${t(locale, 'overview.procedures.all')}</a></li>
  </ul>
</section>`;
}

function sectionsNav(locale: Locale): SafeHtml {
  return html`<section class="fr-mb-5w" aria-labelledby="sections-title">
  <h2 id="sections-title">${t(locale, 'overview.sections.title')}</h2>
  <div class="fr-grid-row fr-grid-row--gutters">
    ${ACCOUNT_SECTIONS.filter((s) => s.id !== 'overview').map((s) => tile({ href: s.href, title: t(locale, s.label), detail: t(locale, SECTION_ABOUT[s.id]), small: true }))}
  </div>
</section>`;
}

export async function overviewRoutes(app: FastifyInstance, deps: AccountDeps): Promise<void> {
  app.get('/account', async (request, reply) => {
    const now = deps.clock.now();
    const data = await citizenRequest(deps, request, async (tx, session) => {
      const id = session.accountId;
      const [account, kinds, payment, procedures, bank, events] = await Promise.all([
        readAccount(tx, deps.ring, id),
        authenticatorKinds(tx, id),
        nextPayment(tx, deps.ring, id, localDate(now, deps.timeZone)),
        listProcedures(tx, deps.ring, id, 3),
        readBankDetails(tx, deps.ring, id, now),
        recentSecurityEvents(tx, id, now),
      ]);
      return { account, kinds, payment, procedures, bank, events };
    });
    const { account } = data;
    if (!account) return reply.redirect('/login', 303);
    carries(request, account.id, ...(data.payment ? [data.payment.accountId] : []), ...data.procedures.map((p) => p.accountId), ...(data.bank ? [data.bank.accountId] : []));

    const locale = localeOf(request);
    // The usage name is the one the citizen goes by; the birth name then follows, as on a letter from the agency.
    const { givenNames, familyName, usageName } = account.identity;
    const main = html`<p class="fr-text--lead${usageName ? ' fr-mb-1v' : ''}" id="account-name">${givenNames} ${usageName ?? familyName}</p>
${usageName ? html`<p class="fr-text--sm" id="account-birth-name">${t(locale, 'account.birthName', { name: familyName })}</p>` : ''}
${alertsSection({ locale, timeZone: deps.timeZone, strongMethods: data.kinds.size, bank: data.bank, events: data.events })}
<div class="fr-grid-row fr-grid-row--gutters fr-mb-5w">
  ${nextPaymentSection(locale, data.payment)}
  ${proceduresSection(locale, data.procedures, deps.timeZone)}
</div>
${sectionsNav(locale)}
<ul class="fr-btns-group fr-btns-group--inline-md">
  <li><a class="fr-btn fr-btn--secondary" href="/account/security">${t(locale, 'account.security')}</a></li>
  <li>
    <form method="post" action="/logout">
      ${csrfField(request, reply)}
      <button class="fr-btn fr-btn--tertiary" type="submit">${t(locale, 'logout.submit')}</button>
    </form>
  </li>
</ul>`;
    return sendAccountPage(reply, { request, title: t(locale, 'account.title'), current: 'overview', main });
  });
}
