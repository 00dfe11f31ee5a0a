import { addMonths, monthOf } from '../../file/procedures/dates.ts';
import { readAccount } from '../../accounts/accounts.ts';
import { CERTIFICATE_FIELDS, certificateMonths, certifiedPayments, parsePaymentCertificate, paymentCertificateOf, type CertifiedSnapshot } from '../../file/procedures/payment-certificate.ts';
import { listPayments } from '../../file/projections/payments.ts';
import { html } from '../../web/html.ts';
import { t } from '../../web/i18n.ts';
import { formatMonth } from '../payments/format.ts';
import type { ProcedureKindModule } from './kind.ts';
import { errorText, select } from './widgets.ts';

/** "Attestation de paiement": a period of whole months; the certificate is a printable page. */
export const paymentCertificate: ProcedureKindModule = {
  kind: 'payment-certificate',
  fields: CERTIFICATE_FIELDS,
  initialStatus: 'accepted',

  async prepare(tx, ring, accountId, today) {
    const months = certificateMonths(today);
    // Issued on submission, under the file's lock: what it certifies is read here and kept with it (certifiedSnapshotOf).
    const [account, payments] = await Promise.all([readAccount(tx, ring, accountId), listPayments(tx, ring, accountId)]);
    return {
      available: account !== null,
      parse: (values) => {
        const parsed = parsePaymentCertificate(values, today);
        if (!parsed.ok) return parsed;
        if (!account) return { ok: false, errors: {} };
        const { givenNames, familyName, birthDate } = account.identity;
        const certified: CertifiedSnapshot = {
          beneficiary: { givenNames, familyName, birthDate },
          payments: certifiedPayments(payments, parsed.data, today).map((p) => ({ date: p.date, benefit: p.benefit, amountCents: p.amountCents })),
        };
        return { ok: true, data: { ...parsed.data, certified } };
      },
      fields({ locale, values, errors }) {
        const options = months.map((m) => ({ value: m, label: formatMonth(locale, m) }));
        // First display: the last twelve months, the most common request.
        const first = values.from === undefined && values.to === undefined;
        return html`<p>${t(locale, 'procedures.certificate.lead')}</p>
<fieldset class="fr-fieldset" aria-labelledby="period-legend">
  <legend class="fr-fieldset__legend" id="period-legend">${t(locale, 'procedures.certificate.legend')}</legend>
  <div class="fr-fieldset__element fr-fieldset__element--inline">${select({ id: 'from', label: t(locale, 'procedures.certificate.from'), options, value: first ? addMonths(monthOf(today), -11) : (values.from ?? ''), error: errorText(locale, errors, 'from'), placeholder: t(locale, 'procedures.form.choose') })}</div>
  <div class="fr-fieldset__element fr-fieldset__element--inline">${select({ id: 'to', label: t(locale, 'procedures.certificate.to'), options, value: first ? monthOf(today) : (values.to ?? ''), error: errorText(locale, errors, 'to'), placeholder: t(locale, 'procedures.form.choose') })}</div>
</fieldset>`;
      },
    };
  },

  describe(locale, procedure) {
    const d = paymentCertificateOf(procedure.data);
    if (!d) return html``;
    return html`<p id="procedure-period">${t(locale, 'procedures.certificate.period', { from: formatMonth(locale, d.from), to: formatMonth(locale, d.to) })}</p>
${procedure.status === 'accepted' ? html`<p><a class="fr-btn fr-btn--secondary fr-icon-printer-line fr-btn--icon-left" href="/account/procedures/${procedure.id}/certificate">${t(locale, 'procedures.detail.certificate')}</a></p>` : ''}`;
  },
};
