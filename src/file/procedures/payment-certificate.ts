import type { PaymentValue } from '../catalogue.ts';
import { addMonths, isIsoMonth, monthOf, monthSpan } from './dates.ts';
import { clean, type FieldErrors, type FormValues, type Parsed } from './form.ts';

/**
 * Payment certificate: the payments made over a period of whole months, on a page the
 * citizen prints. It is produced on the spot, so the procedure is accepted at once.
 */

export type PaymentCertificateData = {
  /** First and last month of the period, 'YYYY-MM', both included. */
  from: string;
  to: string;
};

export const CERTIFICATE_FIELDS = ['from', 'to'] as const;

/** How far back the form goes (the agency keeps payments that long), and the longest period. */
export const CERTIFICATE_MONTHS_BACK = 36;
export const CERTIFICATE_MAX_SPAN = 24;

/** The months the form offers, newest first: the current one and the 35 before it. */
export function certificateMonths(today: string): string[] {
  const current = monthOf(today);
  return Array.from({ length: CERTIFICATE_MONTHS_BACK }, (_, i) => addMonths(current, -i));
}

export function parsePaymentCertificate(values: FormValues, today: string): Parsed<PaymentCertificateData> {
  const errors: FieldErrors = {};
  const offered = new Set(certificateMonths(today));
  const from = clean(values.from);
  const to = clean(values.to);
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (value === '') errors[name] = 'required';
    else if (!isIsoMonth(value) || !offered.has(value)) errors[name] = 'month';
  }
  if (Object.keys(errors).length === 0) {
    if (monthSpan(from, to) < 1) errors.to = 'period-order';
    else if (monthSpan(from, to) > CERTIFICATE_MAX_SPAN) errors.to = 'period-too-long';
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, data: { from, to } };
}

export function paymentCertificateOf(data: Record<string, unknown>): PaymentCertificateData | null {
  const { from, to } = data;
  return typeof from === 'string' && typeof to === 'string' && isIsoMonth(from) && isIsoMonth(to) ? { from, to } : null;
}

/**
 * What a certificate certified, frozen when it was issued: the beneficiary as the file named
 * them and the payments listed. The page shows this, never the file as it is later (a payment
 * recorded late or cancelled, a name corrected): a certificate printed twice says the same.
 */
export type CertifiedSnapshot = {
  beneficiary: { givenNames: string; familyName: string; birthDate: string };
  payments: { date: string; benefit: string; amountCents: number }[];
};

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

/** The snapshot in a certificate's data; null for one issued before snapshots were kept (or one that does not read as such). */
export function certifiedSnapshotOf(data: Record<string, unknown>): CertifiedSnapshot | null {
  const c = data.certified;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return null;
  const { beneficiary: b, payments } = c as Record<string, unknown>;
  if (typeof b !== 'object' || b === null || !Array.isArray(payments)) return null;
  const { givenNames, familyName, birthDate } = b as Record<string, unknown>;
  if (!isText(givenNames, 200) || !isText(familyName, 200) || !isText(birthDate, 10)) return null;
  const listed: CertifiedSnapshot['payments'] = [];
  for (const p of payments as unknown[]) {
    if (typeof p !== 'object' || p === null) return null;
    const { date, benefit, amountCents } = p as Record<string, unknown>;
    if (!isText(date, 10) || !DAY.test(date) || !isText(benefit, 40) || typeof amountCents !== 'number' || !Number.isSafeInteger(amountCents)) return null;
    listed.push({ date, benefit, amountCents });
  }
  return { beneficiary: { givenNames, familyName, birthDate }, payments: listed };
}

/**
 * What the certificate lists: the payments actually made in the period, up to the day it was
 * issued, oldest first (a certificate reads like a statement).
 */
export function certifiedPayments<P extends Pick<PaymentValue, 'date' | 'status'>>(payments: readonly P[], period: PaymentCertificateData, issuedOn: string): P[] {
  return payments
    .filter((p) => p.status === 'paid' && monthOf(p.date) >= period.from && monthOf(p.date) <= period.to && p.date <= issuedOn)
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}
