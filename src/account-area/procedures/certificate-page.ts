import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Account } from '../../accounts/accounts.ts';
import { lastDayOfMonth, localDate } from '../../file/procedures/dates.ts';
import { certifiedPayments, type CertifiedSnapshot, type PaymentCertificateData } from '../../file/procedures/payment-certificate.ts';
import type { PaymentView } from '../../file/projections/payments.ts';
import type { ProcedureView } from '../../file/projections/procedures.ts';
import { html } from '../../web/html.ts';
import { localeOf, t } from '../../web/i18n.ts';
import { siteOf } from '../../web/layout.ts';
import { assetUrl, dsfrUrl } from '../../web/static.ts';
import { benefitLabel } from '../payments/benefits.ts';
import { formatDay, formatEuros } from '../payments/format.ts';
import { PROCEDURES } from './views.ts';
import { table } from '../../web/table.ts';

/**
 * What a certificate issued before snapshots were kept certifies: read from the file as it is
 * now (payments up to its issue day), as those certificates always were.
 */
export function certifiedFromFile(account: Account, payments: readonly PaymentView[], period: PaymentCertificateData, issuedOn: string): CertifiedSnapshot {
  const { givenNames, familyName, birthDate } = account.identity;
  return { beneficiary: { givenNames, familyName, birthDate }, payments: certifiedPayments(payments, period, issuedOn) };
}

/**
 * The payment certificate as a document of its own: no site header, menu or footer to hide
 * when printing, an A4 print stylesheet, and the back link and print hint marked
 * `fr-no-print`. The browser's "Print" makes the PDF; no script is needed.
 */
export function sendCertificate(
  request: FastifyRequest,
  reply: FastifyReply,
  o: { procedure: ProcedureView; period: PaymentCertificateData; certified: CertifiedSnapshot; timeZone: string },
): FastifyReply {
  const locale = localeOf(request);
  const service = siteOf(request).serviceName;
  const issuedOn = localDate(new Date(o.procedure.submittedAt), o.timeZone);
  const { payments, beneficiary: identity } = o.certified;
  const total = payments.reduce((sum, p) => sum + p.amountCents, 0);
  const from = formatDay(locale, `${o.period.from}-01`);
  const to = formatDay(locale, lastDayOfMonth(o.period.to));
  const title = t(locale, 'certificate.title');

  const document = html`<!doctype html>
<html lang="${locale}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title} ${o.procedure.reference} - ${service}</title>
  <link rel="icon" href="${dsfrUrl('favicon/favicon.svg')}" type="image/svg+xml">
  <link rel="stylesheet" href="${dsfrUrl('dsfr.min.css')}">
  <link rel="stylesheet" href="${dsfrUrl('utility/icons/icons.min.css')}">
  <link rel="stylesheet" href="${assetUrl('sesame.css')}">
  <link rel="stylesheet" href="${assetUrl('certificate.css')}">
</head>
<body>
  <main id="content" class="fr-container fr-my-4w sesame-certificate">
    <nav class="fr-no-print fr-mb-4w" aria-label="${t(locale, 'certificate.back')}">
      <p><a class="fr-link fr-icon-arrow-left-line fr-link--icon-left" href="${PROCEDURES}/${o.procedure.id}">${t(locale, 'certificate.back')}</a></p>
      <p class="fr-hint-text">${t(locale, 'certificate.print')}</p>
    </nav>
    <div class="sesame-certificate__issuer">
      <p class="fr-logo">République<br>Française</p>
      <p><strong>${t(locale, 'certificate.issuer')}</strong><br>${service}</p>
    </div>
    <h1>${title}</h1>
    <dl>
      <dt>${t(locale, 'certificate.reference')}</dt><dd><span class="sesame-reference" id="certificate-reference">${o.procedure.reference}</span></dd>
      <dt>${t(locale, 'certificate.issuedOn')}</dt><dd id="certificate-issued">${formatDay(locale, issuedOn)}</dd>
      <dt>${t(locale, 'certificate.period')}</dt><dd id="certificate-period">${t(locale, 'procedures.certificate.period', { from, to })}</dd>
    </dl>
    <p class="fr-mt-4w">${t(locale, 'certificate.intro')}</p>
    <dl>
      <dt>${t(locale, 'certificate.beneficiary')}</dt><dd id="certificate-beneficiary">${identity.givenNames} ${identity.familyName}</dd>
      <dt>${t(locale, 'certificate.birthDate')}</dt><dd>${identity.birthDate ? formatDay(locale, identity.birthDate) : ''}</dd>
    </dl>
    ${
      payments.length === 0
        ? html`<p id="certificate-none">${t(locale, 'certificate.none')}</p>`
        : table({
            id: 'certified-payments',
            caption: t(locale, 'certificate.caption', { from, to }),
            headers: [t(locale, 'payments.date'), t(locale, 'payments.benefit'), t(locale, 'payments.amount')],
            rows: [
              ...payments.map((p) => html`<tr><td>${formatDay(locale, p.date)}</td><td>${benefitLabel(locale, p.benefit)}</td><td>${formatEuros(locale, p.amountCents)}</td></tr>`),
              html`<tr><th scope="row" colspan="2">${t(locale, 'certificate.total')}</th><td id="certificate-total"><strong>${formatEuros(locale, total)}</strong></td></tr>`,
            ],
          })
    }
  </main>
</body>
</html>
`;
  return reply.type('text/html; charset=utf-8').send(document.toString());
}
