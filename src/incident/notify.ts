import { audit } from '../audit/log.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import { system, type Tx } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import { MailRecipientError, queueMail } from '../mail/outbox.ts';
import { renderMail } from '../mail/render.ts';
import { siteFromConfig } from '../mail/site.ts';
import type { IncidentNoticeParams } from '../mail/templates/incident-notice.ts';
import type { Cohort } from './cohort-store.ts';
import { recordStep, type Incident, type IncidentActor } from './incidents.ts';
import { dpoOf, noticeParams } from './notify-params.ts';

/**
 * `incident notify`: one mail per person of the cohort, through the outbox (the worker
 * delivers it, with its retries). A row of incident_notifications is written in the
 * transaction that queues each mail, so a re-run, even after a run killed halfway, queues
 * nothing twice; batches are committed one by one and paced to `rate` mails per second.
 */
export const NOTICE_TEMPLATES = ['data-exposed', 'credentials-reset'] as const;
export type NoticeTemplate = (typeof NOTICE_TEMPLATES)[number];
export const isNoticeTemplate = (v: string): v is NoticeTemplate => (NOTICE_TEMPLATES as readonly string[]).includes(v);

const MAIL: Record<NoticeTemplate, 'incident-data-exposed' | 'incident-credentials-reset'> = {
  'data-exposed': 'incident-data-exposed',
  'credentials-reset': 'incident-credentials-reset',
};
export const mailTemplateOf = (t: NoticeTemplate) => MAIL[t];

export interface NotifyCounts {
  /** The people this template is for: the cohort (for credentials-reset, those reset). */
  recipients: number;
  /** Queued by this run (a dry run: would be). */
  queued: number;
  alreadyNotified: number;
  /** No email address on file (or the account is gone): the agency writes to them by post. */
  noAddress: number;
  /** credentials-reset only: cohort members not reset for this incident, not sent this template. */
  notReset: number;
}

export interface NotifyOptions {
  incident: Incident;
  cohort: Cohort;
  template: NoticeTemplate;
  by: IncidentActor;
  apply: boolean;
  /** Mails queued per second. */
  rate: number;
  /** Told how many will be queued, before the first batch. */
  onStart?: (toQueue: number) => void;
  /** After each committed batch: how many of those to queue were handled, how many queued. */
  onBatch?: (handled: number, queued: number) => void;
  /** Real time, for pacing (a test may pass its own). */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface NotifyDeps {
  db: Database;
  ring: KeyRing;
  clock: Clock;
  config: Pick<Config, 'dataProtection' | 'serviceName' | 'publicUrl' | 'timeZone'>;
}

const REASON = 'incident:notify';
/** The mail is written in French first, then in English: accounts have no language on file. */
const LOCALE = 'fr';

interface Plan {
  recipients: string[];
  already: Set<string>;
  withoutAddress: Set<string>;
  notReset: number;
}

/** Who gets this template, who already has it, who has no address: one read, for the dry run and the run. */
async function plan(tx: Tx, o: Pick<NotifyOptions, 'incident' | 'cohort' | 'template'>): Promise<Plan> {
  const ids = o.cohort.members.map((m) => m.accountId);
  const { rows } = await tx.query<{ id: string; reset: boolean; notified: boolean; address: boolean }>(
    `SELECT m.id,
            EXISTS (SELECT 1 FROM incident_resets r WHERE r.incident_id = $2 AND r.account_id = m.id) AS reset,
            EXISTS (SELECT 1 FROM incident_notifications n WHERE n.incident_id = $2 AND n.account_id = m.id AND n.template = $3) AS notified,
            EXISTS (SELECT 1 FROM accounts a JOIN account_keys k ON k.account_id = a.id WHERE a.id = m.id AND a.email IS NOT NULL) AS address
       FROM unnest($1::uuid[]) AS m(id) ORDER BY m.id`,
    [ids, o.incident.id, MAIL[o.template]],
  );
  const eligible = o.template === 'credentials-reset' ? rows.filter((r) => r.reset) : rows;
  return {
    recipients: eligible.map((r) => r.id),
    already: new Set(eligible.filter((r) => r.notified).map((r) => r.id)),
    withoutAddress: new Set(eligible.filter((r) => !r.notified && !r.address).map((r) => r.id)),
    notReset: rows.length - eligible.length,
  };
}

export async function notifyCohort(deps: NotifyDeps, o: NotifyOptions): Promise<{ counts: NotifyCounts; withoutAddress: string[] }> {
  const { db, clock } = deps;
  if (!(Number.isInteger(o.rate) && o.rate >= 1)) throw new RangeError('rate must be a whole number of mails per second, at least 1');
  const contact = dpoOf(deps.config);
  const p = await system(db, REASON, (tx) => plan(tx, o));
  const counts: NotifyCounts = { recipients: p.recipients.length, queued: 0, alreadyNotified: p.already.size, noAddress: p.withoutAddress.size, notReset: p.notReset };
  const todo = p.recipients.filter((id) => !p.already.has(id) && !p.withoutAddress.has(id));
  if (!o.apply) {
    counts.queued = todo.length;
    await system(db, REASON, (tx) => recordStep(tx, clock, o.incident, { kind: 'notify', by: o.by, applied: false, summary: summaryOf(o, counts) }));
    return { counts, withoutAddress: [...p.withoutAddress] };
  }
  o.onStart?.(todo.length);
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = o.now ?? (() => performance.now());
  const started = now();
  // A batch is at most a second's worth: pacing stays even and a kill loses nothing committed.
  const size = Math.min(o.rate, 200);
  let handled = 0;
  let checked = false;
  const withoutAddress = [...p.withoutAddress];
  for (let i = 0; i < todo.length; i += size) {
    const batch = todo.slice(i, i + size);
    const done = await system(db, REASON, (tx) => queueBatch(tx, deps, o, contact, batch, checked));
    checked = true;
    counts.queued += done.queued;
    counts.alreadyNotified += done.already;
    counts.noAddress += done.noAddress.length;
    withoutAddress.push(...done.noAddress);
    handled += batch.length;
    o.onBatch?.(handled, counts.queued);
    const due = started + (counts.queued / o.rate) * 1000;
    const wait = due - now();
    if (wait > 0 && i + size < todo.length) await sleep(wait);
  }
  await system(db, REASON, (tx) => recordStep(tx, clock, o.incident, { kind: 'notify', by: o.by, applied: true, summary: summaryOf(o, counts) }));
  return { counts, withoutAddress: withoutAddress.sort() };
}

const summaryOf = (o: NotifyOptions, c: NotifyCounts) => ({ cohortId: o.cohort.id, template: o.template, rate: o.rate, ...c });

async function queueBatch(
  tx: Tx,
  deps: NotifyDeps,
  o: NotifyOptions,
  contact: Pick<IncidentNoticeParams, 'controller' | 'dpo'>,
  batch: string[],
  checked: boolean,
): Promise<{ queued: number; already: number; noAddress: string[] }> {
  const template = MAIL[o.template];
  // Two runs at once take turns batch by batch; the second then finds these people notified.
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('incident-notify:' || $1::text || ':' || $2::text, 0))`, [o.incident.id, template]);
  const { rows } = await tx.query<{ account_id: string }>(
    `SELECT account_id FROM incident_notifications WHERE incident_id = $1 AND template = $2 AND account_id = ANY($3::uuid[])`,
    [o.incident.id, template, batch],
  );
  const taken = new Set(rows.map((r) => r.account_id));
  const pending = batch.filter((id) => !taken.has(id));
  const params = await noticeParams(tx, { incident: o.incident, cohort: o.cohort, contact }, pending);
  let queued = 0;
  const noAddress: string[] = [];
  for (const accountId of pending) {
    const p = params.get(accountId) as IncidentNoticeParams;
    // Rendered once before anything is queued: a notice the worker could not render fails here.
    if (!checked && queued === 0) renderMail(template, LOCALE, p, siteFromConfig(deps.config));
    let messageId: string;
    try {
      messageId = await queueMail(tx, deps, { accountId, template, locale: LOCALE, params: p });
    } catch (err) {
      // The address went (or the account was shredded) since the plan: counted, not fatal.
      if (err instanceof MailRecipientError) {
        noAddress.push(accountId);
        continue;
      }
      throw err;
    }
    tx.send(`INSERT INTO incident_notifications (incident_id, account_id, template, message_id, queued_at) VALUES ($1, $2, $3, $4, $5)`, [
      o.incident.id,
      accountId,
      template,
      messageId,
      deps.clock.now(),
    ]);
    await audit(tx, deps.clock, { type: 'incident.notified', accountId, payload: { incidentId: o.incident.id, messageId, template } }, o.by.kind === 'operator' ? o.by.name : undefined);
    queued++;
  }
  return { queued, already: taken.size, noAddress };
}
