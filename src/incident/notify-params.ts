import type { Config } from '../config.ts';
import type { Tx } from '../db/contexts.ts';
import type { IncidentNoticeParams, NoticeData } from '../mail/templates/incident-notice.ts';
import { noticeSchema } from '../mail/templates/incident-notice.ts';
import type { CohortCategory } from './cohort-store.ts';
import type { Cohort } from './cohort-store.ts';
import type { Incident } from './incidents.ts';
import { resetOf } from './reset-credentials.ts';

/**
 * What an incident notice says to one person, from what the incident recorded about them:
 * the categories of their cohort membership (which of their data), the changes `incident
 * cancel` reverted on their file (its audit events) and what `incident reset-credentials` did.
 */

/**
 * Their data concerned, per way the incident touched them. A file read (or served to another
 * session) exposed all of it; a file changed in the window concerns what a change can reach;
 * a login alone exposed nothing of theirs.
 */
const DATA_OF: Record<CohortCategory, readonly NoticeData[]> = {
  'file-read': ['identity', 'contact', 'bank-details', 'payments', 'procedures'],
  'touched-by-others': ['identity', 'contact', 'bank-details', 'payments', 'procedures'],
  'file-changed': ['contact', 'bank-details', 'procedures'],
  'logged-in': [],
};
const ORDER: readonly NoticeData[] = ['identity', 'contact', 'bank-details', 'payments', 'procedures'];

export const dataOf = (categories: readonly CohortCategory[]): NoticeData[] => {
  const concerned = new Set(categories.flatMap((c) => DATA_OF[c] ?? []));
  return ORDER.filter((d) => concerned.has(d));
};

export class DpoConfigError extends Error {
  override name = 'DpoConfigError';
}

/** The controller and DPO as a notice shows them; a value a mail would refuse is named by its variable. */
export function dpoOf(config: Pick<Config, 'dataProtection'>): Pick<IncidentNoticeParams, 'controller' | 'dpo'> {
  const d = config.dataProtection;
  // Postal lines (a newline, or `\n` as written in an environment file) become one line.
  const postal = d.dpoPostalAddress
    ?.split(/\r?\n|\\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(', ');
  const value = { controller: d.controller, dpo: { name: d.dpoName, email: d.dpoEmail, postalAddress: postal || null, phone: d.dpoPhone } };
  const checked = noticeSchema.pick({ controller: true, dpo: true }).safeParse(value);
  if (!checked.success) {
    const VARS: Record<string, string> = {
      controller: 'SESAME_CONTROLLER_NAME',
      'dpo.name': 'SESAME_DPO_NAME',
      'dpo.email': 'SESAME_DPO_EMAIL',
      'dpo.postalAddress': 'SESAME_DPO_POSTAL_ADDRESS',
      'dpo.phone': 'SESAME_DPO_PHONE',
    };
    const names = [...new Set(checked.error.issues.map((i) => VARS[i.path.join('.')] ?? i.path.join('.')))];
    throw new DpoConfigError(`${names.join(', ')}: not accepted in a mail (one line of plain text, nothing that looks like a link)`);
  }
  return checked.data;
}

/** The parameters of each account's notice, for one batch of the cohort. */
export async function noticeParams(
  tx: Tx,
  o: { incident: Incident; cohort: Cohort; contact: Pick<IncidentNoticeParams, 'controller' | 'dpo'> },
  accountIds: readonly string[],
): Promise<Map<string, IncidentNoticeParams>> {
  const categories = new Map(o.cohort.members.map((m) => [m.accountId, m.categories]));
  const [cancelled, resets] = await Promise.all([
    tx.query<{ account_id: string; n: number }>(
      `SELECT account_id, count(*)::int AS n FROM audit_log
        WHERE type = 'incident.change-cancelled' AND account_id = ANY($1::uuid[]) AND payload->>'incidentId' = $2::text
        GROUP BY account_id`,
      [accountIds, o.incident.id],
    ),
    resetOf(tx, o.incident, accountIds),
  ]);
  const cancelledOf = new Map(cancelled.rows.map((r) => [r.account_id, r.n]));
  const out = new Map<string, IncidentNoticeParams>();
  for (const id of accountIds) {
    const reset = resets.get(id);
    out.set(id, {
      reference: o.incident.reference,
      from: o.cohort.from.toISOString(),
      to: o.cohort.to.toISOString(),
      data: dataOf(categories.get(id) ?? []),
      changesCancelled: cancelledOf.get(id) ?? 0,
      credentialsReset: reset !== undefined,
      authenticatorsRemoved: reset?.authenticatorsRemoved ?? 0,
      ...o.contact,
    });
  }
  return out;
}
