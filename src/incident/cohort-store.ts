import type { Clock } from '../clock.ts';
import { newId } from '../crypto/random.ts';
import type { Tx } from '../db/contexts.ts';
import { actorLabel, type Incident, type IncidentActor } from './incidents.ts';

/**
 * Saved cohorts. `incident cohort --apply` saves one; the steps after it (`--cohort`) read the
 * newest of their incident, so that cancel, reset, notify and report all work on the same
 * list of people, the one the operator saw counted.
 */
export const COHORT_CATEGORIES = ['logged-in', 'file-read', 'file-changed', 'touched-by-others'] as const;
export type CohortCategory = (typeof COHORT_CATEGORIES)[number];

export interface CohortMember {
  accountId: string;
  categories: CohortCategory[];
}

export interface Cohort {
  id: string;
  from: Date;
  to: Date;
  /** The options it was computed with (flags as given, instants in ISO 8601). */
  options: Record<string, string | boolean | null>;
  computedAt: Date;
  computedBy: string;
  members: CohortMember[];
}

export async function saveCohort(
  tx: Tx,
  clock: Clock,
  incident: Incident,
  o: { from: Date; to: Date; options: Cohort['options']; by: IncidentActor; members: readonly CohortMember[] },
): Promise<Cohort> {
  const id = newId();
  const computedAt = clock.now();
  await tx.query(
    `INSERT INTO incident_cohorts (id, incident_id, window_from, window_to, options, computed_at, computed_by, members) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [id, incident.id, o.from, o.to, JSON.stringify(o.options), computedAt, actorLabel(o.by), o.members.length],
  );
  // One statement per 5,000 members: a cohort may be hundreds of thousands of accounts.
  for (let i = 0; i < o.members.length; i += 5000) {
    const chunk = o.members.slice(i, i + 5000);
    await tx.query(
      `INSERT INTO incident_cohort_members (cohort_id, account_id, categories)
       SELECT $1, m.account_id, string_to_array(m.categories, ',') FROM unnest($2::uuid[], $3::text[]) AS m(account_id, categories)`,
      [id, chunk.map((m) => m.accountId), chunk.map((m) => [...m.categories].sort().join(','))],
    );
  }
  return { id, from: o.from, to: o.to, options: o.options, computedAt, computedBy: actorLabel(o.by), members: [...o.members] };
}

/** The incident's newest saved cohort, members in account id order; null when none was saved. */
export async function latestCohort(tx: Tx, incident: Incident): Promise<Cohort | null> {
  const head = await tx.query<{ id: string; window_from: Date; window_to: Date; options: Cohort['options']; computed_at: Date; computed_by: string }>(
    `SELECT id, window_from, window_to, options, computed_at, computed_by FROM incident_cohorts WHERE incident_id = $1 ORDER BY computed_at DESC, id DESC LIMIT 1`,
    [incident.id],
  );
  const c = head.rows[0];
  if (!c) return null;
  const { rows } = await tx.query<{ account_id: string; categories: CohortCategory[] }>(
    `SELECT account_id, categories FROM incident_cohort_members WHERE cohort_id = $1 ORDER BY account_id`,
    [c.id],
  );
  return {
    id: c.id,
    from: c.window_from,
    to: c.window_to,
    options: c.options,
    computedAt: c.computed_at,
    computedBy: c.computed_by,
    members: rows.map((r) => ({ accountId: r.account_id, categories: r.categories })),
  };
}
