import type { Clock } from '../clock.ts';
import type { Tx } from '../db/contexts.ts';
import { FILE_EVENT_TYPES, type FileEventType } from '../file/catalogue.ts';
import { COHORT_CATEGORIES, latestCohort, type Cohort, type CohortCategory } from './cohort-store.ts';
import { timelineOf, type Incident, type IncidentStep, type StepKind, type StepSummary } from './incidents.ts';

/**
 * The data of the Article 33 notification draft (`sesame incident report`), gathered from the
 * database only: the incident, its timeline, its latest saved cohort, the audit events the
 * incident's steps wrote, and the records held for the cohort's accounts. Counts, codes,
 * instants and the operators' logins: never a citizen's NIR, name, address or IBAN.
 * Rendering is elsewhere (report-markdown.ts, report-article34.ts).
 */

export const DEADLINE_HOURS = 72;

/** An exact count and the rounded figure a notification gives ("approximately 7,000"). */
export interface Count {
  exact: number;
  approximately: number;
}

export interface Deadline {
  detectedAt: string;
  dueAt: string;
  /** Whole minutes from now to the deadline; negative once it has passed. */
  minutesLeft: number;
  overdue: boolean;
}

export const DATA_CATEGORIES = ['identity', 'contact', 'bank-details', 'procedures', 'payments'] as const;
export type DataCategory = (typeof DATA_CATEGORIES)[number];

export const CONSEQUENCES = ['identity-theft', 'phishing', 'bank-fraud', 'diverted-payments', 'wrong-decisions', 'financial-situation-disclosed', 'account-takeover'] as const;
export type Consequence = (typeof CONSEQUENCES)[number];

export const PROPOSED = ['compute-cohort', 'close-access', 'cancel-changes', 'review-conflicts', 'reset-credentials', 'notify-people', 'undelivered-notifications', 'reopen-access'] as const;
export type Proposed = (typeof PROPOSED)[number];

export interface Measure {
  at: string;
  by: string;
  step: StepKind;
  summary: StepSummary;
}

export interface Report {
  incident: { reference: string; title: string; detectedAt: string; openedAt: string; closedAt: string | null };
  generatedAt: string;
  site: { serviceName: string; siteAddress: string; timeZone: string };
  controller: string;
  dpo: { name: string; email: string | null; phone: string | null; postalAddress: string | null };
  deadline: Deadline;
  /** The latest saved cohort; null when none was computed yet (every count below is then 0). */
  cohort: { id: string; from: string; to: string; computedAt: string; computedBy: string; options: Cohort['options'] } | null;
  subjects: { total: Count; byCategory: Record<CohortCategory, Count> };
  records: {
    /** Accounts of the cohort still held: NIR, names, birth date (and place, gender when known), from the agency. */
    identity: Count;
    contact: { email: Count; phone: Count; postalAddress: Count };
    /** Bank details in force (IBAN and holder), plus a previous IBAN still held during a hold period. */
    bankDetails: Count;
    previousBankDetails: number;
    procedures: Count;
    payments: Count;
    /** Changes to the cohort's files in the cohort's window [from, to): by type, and how many were made by someone else (another citizen, or a session of another account). */
    fileEventsInWindow: { total: Count; byOthers: number; byType: Record<FileEventType, number> };
    total: Count;
  };
  dataCategories: DataCategory[];
  consequences: Consequence[];
  /** What the incident's own steps did, from the audit events they wrote (all runs together). */
  effects: {
    changesCancelled: number;
    conflicts: number;
    credentialsReset: { accounts: number; sessionsEnded: number; authenticatorsRemoved: number };
    notified: { people: number; messages: number; sent: number; failed: number; byTemplate: Record<string, number>; firstAt: string | null; lastAt: string | null };
  };
  /** Applied steps in order; dry runs apart (they changed nothing and are not measures). */
  measures: { taken: Measure[]; dryRuns: Measure[]; proposed: Proposed[] };
}

/** Exact below 100; otherwise two significant figures (6,987 → 7,000; 345 → 350). */
export function approximately(n: number): number {
  if (!Number.isFinite(n) || n < 100) return n;
  const unit = 10 ** (Math.floor(Math.log10(n)) - 1);
  return Math.round(n / unit) * unit;
}

export const count = (n: number): Count => ({ exact: n, approximately: approximately(n) });

/** 72 hours from detection (Art. 33(1)); time left in whole minutes, negative when overdue. */
export function deadlineOf(detectedAt: Date, now: Date): Deadline {
  const due = detectedAt.getTime() + DEADLINE_HOURS * 3600_000;
  const ms = due - now.getTime();
  return { detectedAt: detectedAt.toISOString(), dueAt: new Date(due).toISOString(), minutesLeft: Math.floor(ms / 60_000), overdue: ms < 0 };
}

export interface ReportContext {
  clock: Clock;
  site: Report['site'];
  controller: string;
  dpo: Report['dpo'];
}

interface HeldRow extends Record<string, unknown> {
  identity: number;
  email: number;
  phone: number;
  postal_address: number;
  bank: number;
  previous_bank: number;
  procedures: number;
  payments: number;
}

const MEMBERS = `SELECT account_id FROM incident_cohort_members WHERE cohort_id = $1`;

async function held(tx: Tx, cohortId: string): Promise<HeldRow> {
  const { rows } = await tx.query<HeldRow>(
    `SELECT
       (SELECT count(*) FROM accounts a WHERE a.id IN (${MEMBERS}))::int AS identity,
       (SELECT count(a.email) FROM accounts a WHERE a.id IN (${MEMBERS}))::int AS email,
       (SELECT count(a.phone) FROM accounts a WHERE a.id IN (${MEMBERS}))::int AS phone,
       (SELECT count(a.postal_address) FROM accounts a WHERE a.id IN (${MEMBERS}))::int AS postal_address,
       (SELECT count(b.iban) FROM file_bank_details b WHERE b.account_id IN (${MEMBERS}))::int AS bank,
       (SELECT count(b.previous_iban) FROM file_bank_details b WHERE b.account_id IN (${MEMBERS}))::int AS previous_bank,
       (SELECT count(*) FROM file_procedures p WHERE p.account_id IN (${MEMBERS}))::int AS procedures,
       (SELECT count(*) FROM file_payments p WHERE p.account_id IN (${MEMBERS}))::int AS payments`,
    [cohortId],
  );
  return rows[0] as HeldRow;
}

async function eventsInWindow(tx: Tx, cohort: Cohort): Promise<Report['records']['fileEventsInWindow']> {
  const { rows } = await tx.query<{ type: FileEventType; n: number; by_others: number }>(
    // "By others" as the cohort counts it: another citizen named as actor, or a session of
    // another account (the 2021 fault: the app believed the session was the file's owner's).
    // An operator's compensation (incident cancel) is the response, not the incident.
    `SELECT e.type, count(*)::int AS n,
            count(*) FILTER (WHERE (e.actor_kind = 'citizen' AND e.actor_id <> e.account_id::text) OR s.account_id <> e.account_id)::int AS by_others
       FROM file_events e LEFT JOIN sessions s ON s.id = e.session_id
      WHERE e.account_id IN (${MEMBERS}) AND e.occurred_at >= $2 AND e.occurred_at < $3
        AND NOT (e.type = 'event.cancelled' AND e.actor_kind = 'operator')
      GROUP BY e.type`,
    [cohort.id, cohort.from, cohort.to],
  );
  const byType = Object.fromEntries(FILE_EVENT_TYPES.map((t) => [t, 0])) as Record<FileEventType, number>;
  let total = 0;
  let byOthers = 0;
  for (const r of rows) {
    byType[r.type] = r.n;
    total += r.n;
    byOthers += r.by_others;
  }
  return { total: count(total), byOthers, byType };
}

async function effectsOf(tx: Tx, incident: Incident): Promise<Report['effects']> {
  // Distinct changes: a resumed or repeated cancel run audits the same conflict again.
  const { rows } = await tx.query<{ type: string; events: number; accounts: number; sessions_ended: number; authenticators_removed: number }>(
    `SELECT type, count(DISTINCT payload->>'eventId')::int AS events, count(DISTINCT account_id)::int AS accounts,
            coalesce(sum((payload->>'sessionsEnded')::int), 0)::int AS sessions_ended,
            coalesce(sum((payload->>'authenticatorsRemoved')::int), 0)::int AS authenticators_removed
       FROM audit_log
      WHERE type IN ('incident.change-cancelled', 'incident.change-conflict', 'incident.credentials-reset') AND payload->>'incidentId' = $1
      GROUP BY type`,
    [incident.id],
  );
  const of = (type: string) => rows.find((r) => r.type === type);
  const reset = of('incident.credentials-reset');
  // A notification is delivered when the mail worker audited mail.sent for its message id.
  const mails = await tx.query<{ template: string; messages: number; people: number; sent: number; failed: number; first_at: Date; last_at: Date }>(
    `SELECT n.payload->>'template' AS template, count(DISTINCT n.seq)::int AS messages, count(DISTINCT n.account_id)::int AS people,
            count(DISTINCT s.payload->>'messageId')::int AS sent, count(DISTINCT f.payload->>'messageId')::int AS failed,
            min(n.occurred_at) AS first_at, max(n.occurred_at) AS last_at
       FROM audit_log n
       LEFT JOIN audit_log s ON s.type = 'mail.sent' AND s.payload->>'messageId' = n.payload->>'messageId'
       LEFT JOIN audit_log f ON f.type = 'mail.failed' AND f.payload->>'messageId' = n.payload->>'messageId'
      WHERE n.type = 'incident.notified' AND n.payload->>'incidentId' = $1
      GROUP BY 1 ORDER BY 1`,
    [incident.id],
  );
  const people = await tx.query<{ n: number }>(`SELECT count(DISTINCT account_id)::int AS n FROM audit_log WHERE type = 'incident.notified' AND payload->>'incidentId' = $1`, [incident.id]);
  const sum = (k: 'messages' | 'sent' | 'failed') => mails.rows.reduce((s, r) => s + r[k], 0);
  const firsts = mails.rows.map((r) => r.first_at.getTime());
  const lasts = mails.rows.map((r) => r.last_at.getTime());
  return {
    changesCancelled: of('incident.change-cancelled')?.events ?? 0,
    conflicts: of('incident.change-conflict')?.events ?? 0,
    credentialsReset: { accounts: reset?.accounts ?? 0, sessionsEnded: reset?.sessions_ended ?? 0, authenticatorsRemoved: reset?.authenticators_removed ?? 0 },
    notified: {
      people: people.rows[0]?.n ?? 0,
      messages: sum('messages'),
      sent: sum('sent'),
      failed: sum('failed'),
      byTemplate: Object.fromEntries(mails.rows.map((r) => [r.template, r.messages])),
      firstAt: firsts.length ? new Date(Math.min(...firsts)).toISOString() : null,
      lastAt: lasts.length ? new Date(Math.max(...lasts)).toISOString() : null,
    },
  };
}

/** Whether an access step closed or opened access (its summary names it; the wording is the access command's). */
export function accessDirection(summary: StepSummary): 'close' | 'open' | null {
  for (const key of ['action', 'direction', 'state', 'to', 'access']) {
    const v = summary[key];
    if (typeof v !== 'string') continue;
    if (/^clos/.test(v)) return 'close';
    if (/^open/.test(v)) return 'open';
  }
  if (typeof summary.open === 'boolean') return summary.open ? 'open' : 'close';
  if (typeof summary.closed === 'boolean') return summary.closed ? 'close' : 'open';
  return null;
}

const measureOf = (s: IncidentStep): Measure => ({ at: s.at.toISOString(), by: s.by, step: s.kind, summary: s.summary });

function dataCategoriesOf(r: Report['records']): DataCategory[] {
  const present: Record<DataCategory, boolean> = {
    identity: r.identity.exact > 0,
    contact: r.contact.email.exact + r.contact.phone.exact + r.contact.postalAddress.exact > 0,
    'bank-details': r.bankDetails.exact + r.previousBankDetails + r.fileEventsInWindow.byType['bank-details.changed'] > 0,
    procedures: r.procedures.exact > 0,
    payments: r.payments.exact > 0,
  };
  return DATA_CATEGORIES.filter((c) => present[c]);
}

/** The likely consequences, per category of data present and per kind of access. */
function consequencesOf(categories: readonly DataCategory[], subjects: Report['subjects'], records: Report['records']): Consequence[] {
  const has = (c: DataCategory) => categories.includes(c);
  const changed = subjects.byCategory['file-changed'].exact > 0 || records.fileEventsInWindow.byOthers > 0;
  const found = new Set<Consequence>();
  if (has('identity')) found.add('identity-theft').add('phishing');
  if (has('contact')) found.add('phishing');
  if (has('bank-details')) found.add('bank-fraud');
  if (has('bank-details') && changed) found.add('diverted-payments');
  if (has('procedures') && changed) found.add('wrong-decisions');
  if (has('payments') || has('procedures')) found.add('financial-situation-disclosed');
  if (subjects.byCategory['logged-in'].exact > 0) found.add('account-takeover');
  return CONSEQUENCES.filter((c) => found.has(c));
}

function proposedOf(incident: Incident, cohort: Cohort | null, taken: readonly Measure[], subjects: Report['subjects'], records: Report['records'], effects: Report['effects']): Proposed[] {
  const did = (kind: StepKind) => taken.some((m) => m.step === kind);
  const access = taken.filter((m) => m.step === 'access').map((m) => accessDirection(m.summary));
  const out: Proposed[] = [];
  if (!cohort) out.push('compute-cohort');
  if (!access.includes('close') && incident.closedAt === null) out.push('close-access');
  const changed = subjects.byCategory['file-changed'].exact > 0 || records.fileEventsInWindow.byOthers > 0;
  if (changed && !did('cancel') && effects.changesCancelled === 0) out.push('cancel-changes');
  if (effects.conflicts > 0) out.push('review-conflicts');
  if (subjects.total.exact > 0 && !did('reset-credentials') && effects.credentialsReset.accounts === 0) out.push('reset-credentials');
  if ((subjects.total.exact > 0 || !cohort) && effects.notified.people === 0) out.push('notify-people');
  if (effects.notified.failed > 0) out.push('undelivered-notifications');
  if (access.length > 0 && access[access.length - 1] === 'close') out.push('reopen-access');
  return out;
}

export async function gatherReport(tx: Tx, ctx: ReportContext, incident: Incident): Promise<Report> {
  const now = ctx.clock.now();
  const cohort = await latestCohort(tx, incident);
  const steps = await timelineOf(tx, incident);
  const effects = await effectsOf(tx, incident);
  const members = cohort?.members ?? [];
  const byCategory = Object.fromEntries(COHORT_CATEGORIES.map((c) => [c, count(members.filter((m) => m.categories.includes(c)).length)])) as Record<CohortCategory, Count>;
  const subjects = { total: count(members.length), byCategory };
  const h: HeldRow = cohort ? await held(tx, cohort.id) : { identity: 0, email: 0, phone: 0, postal_address: 0, bank: 0, previous_bank: 0, procedures: 0, payments: 0 };
  const inWindow = cohort ? await eventsInWindow(tx, cohort) : { total: count(0), byOthers: 0, byType: Object.fromEntries(FILE_EVENT_TYPES.map((t) => [t, 0])) as Record<FileEventType, number> };
  const total = h.identity + h.email + h.phone + h.postal_address + h.bank + h.previous_bank + h.procedures + h.payments + inWindow.total.exact;
  const records: Report['records'] = {
    identity: count(h.identity),
    contact: { email: count(h.email), phone: count(h.phone), postalAddress: count(h.postal_address) },
    bankDetails: count(h.bank),
    previousBankDetails: h.previous_bank,
    procedures: count(h.procedures),
    payments: count(h.payments),
    fileEventsInWindow: inWindow,
    total: count(total),
  };
  const taken = steps.filter((s) => s.applied).map(measureOf);
  const dataCategories = dataCategoriesOf(records);
  return {
    incident: {
      reference: incident.reference,
      title: incident.title,
      detectedAt: incident.detectedAt.toISOString(),
      openedAt: incident.openedAt.toISOString(),
      closedAt: incident.closedAt?.toISOString() ?? null,
    },
    generatedAt: now.toISOString(),
    site: ctx.site,
    controller: ctx.controller,
    dpo: ctx.dpo,
    deadline: deadlineOf(incident.detectedAt, now),
    cohort: cohort
      ? { id: cohort.id, from: cohort.from.toISOString(), to: cohort.to.toISOString(), computedAt: cohort.computedAt.toISOString(), computedBy: cohort.computedBy, options: cohort.options }
      : null,
    subjects,
    records,
    dataCategories,
    consequences: consequencesOf(dataCategories, subjects, records),
    effects,
    measures: { taken, dryRuns: steps.filter((s) => !s.applied).map(measureOf), proposed: proposedOf(incident, cohort, taken, subjects, records, effects) },
  };
}

/** What the 'report' step records: options and counts only. */
export function reportStepSummary(report: Report, options: { format: string; lang: string | null }): StepSummary {
  return {
    format: options.format,
    lang: options.lang,
    cohortId: report.cohort?.id ?? null,
    people: report.subjects.total.exact,
    records: report.records.total.exact,
    minutesLeft: report.deadline.minutesLeft,
    overdue: report.deadline.overdue,
  };
}
