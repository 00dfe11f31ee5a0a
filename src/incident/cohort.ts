import type { Clock } from '../clock.ts';
import { system, type Tx } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import { COHORT_CATEGORIES, saveCohort, type Cohort, type CohortCategory, type CohortMember } from './cohort-store.ts';
import { recordStep, resolveIncident, type Incident, type IncidentActor } from './incidents.ts';

/**
 * Who an incident affected, from what the database recorded: sessions, file events, exports in
 * the audit log, isolation violations. One set-based statement (indexes of migration 020), so
 * that a window of a busy day costs a few index range scans, not a query per account, and
 * every category is read from one snapshot. docs/incident-response.md states the rules.
 */
export interface CohortQuery {
  /** The window [from, to). */
  from: Date;
  to: Date;
  /** Leave out accounts whose latest password change by the citizen is before this instant. */
  excludePasswordChangedBefore: Date | null;
  /** Only accounts whose data was served to, or changed by, a session of another account. */
  onlyTouchedByOthers: boolean;
}

export interface CohortCounts {
  total: number;
  byCategory: Record<CohortCategory, number>;
  /** Accounts that would be members but for --exclude-password-changed-before. */
  excludedPasswordChanged: number;
}

export interface ComputedCohort extends CohortCounts {
  /** In account id order; categories in alphabetical order (as the store keeps them). */
  members: CohortMember[];
}

/**
 * sessions.ts writes last_seen_at at most once a minute, so a session last seen up to a
 * minute before `from` may still have answered requests inside the window.
 */
export const LAST_SEEN_SLACK_MS = 60_000;

const COHORT_SQL = `
WITH active AS (
  -- Sessions that could have answered a request in the window.
  SELECT s.account_id, s.login_nir_index
    FROM sessions s
   WHERE tstzrange(s.created_at, greatest(s.created_at, s.expires_at)) && tstzrange($1, $2) -- the index of migration 020
     AND s.expires_at > $1 AND s.created_at < $2 AND s.last_seen_at > $5
     AND (s.ended_at IS NULL OR s.ended_at > $1)
), window_events AS (
  SELECT e.account_id, e.type, e.actor_kind, e.actor_id, e.session_id
    FROM file_events e
   WHERE e.occurred_at >= $1 AND e.occurred_at < $2
), window_violations AS (
  SELECT v.data_account_id AS account_id
    FROM isolation_violations v
   WHERE v.occurred_at >= $1 AND v.occurred_at < $2 AND v.data_account_id IS NOT NULL
), pairs (account_id, category) AS (
  SELECT s.account_id, 'logged-in' FROM sessions s WHERE s.created_at >= $1 AND s.created_at < $2
  UNION
  SELECT account_id, 'file-read' FROM active
  UNION
  SELECT l.account_id, 'file-read' FROM audit_log l
   WHERE l.type = 'file.exported' AND l.occurred_at >= $1 AND l.occurred_at < $2 AND l.account_id IS NOT NULL
  UNION
  SELECT account_id, 'file-read' FROM window_violations
  UNION
  -- Compensations written by an operator (incident cancel) are the response, not the incident.
  SELECT account_id, 'file-changed' FROM window_events WHERE NOT (type = 'event.cancelled' AND actor_kind = 'operator')
  UNION
  SELECT account_id, 'touched-by-others' FROM window_violations
  UNION
  SELECT e.account_id, 'touched-by-others'
    FROM window_events e LEFT JOIN sessions s ON s.id = e.session_id
   WHERE (e.actor_kind = 'citizen' AND e.actor_id <> e.account_id::text) OR s.account_id <> e.account_id
  UNION
  -- Opened with an identifier that is not (or no longer) the account's own.
  SELECT s.account_id, 'touched-by-others'
    FROM active s JOIN accounts a ON a.id = s.account_id
   WHERE s.login_nir_index IS NOT NULL AND s.login_nir_index <> a.nir_index
), grouped AS (
  SELECT account_id, array_agg(category ORDER BY category COLLATE "C") AS categories, bool_or(category = 'touched-by-others') AS touched
    FROM pairs GROUP BY account_id
), password_changed_before AS (
  -- The citizen's own changes only: the password chosen at activation proves nothing.
  SELECT l.account_id
    FROM audit_log l
   WHERE $3::timestamptz IS NOT NULL AND l.type = 'password.changed' AND l.payload->>'via' IN ('change', 'recovery')
     AND l.account_id IN (SELECT account_id FROM grouped)
   GROUP BY l.account_id
  HAVING max(l.occurred_at) < $3::timestamptz
)
SELECT g.account_id, g.categories, (x.account_id IS NOT NULL) AS excluded
  FROM grouped g LEFT JOIN password_changed_before x ON x.account_id = g.account_id
 WHERE (NOT $4::boolean OR g.touched)
 ORDER BY g.account_id`;

export async function computeCohort(tx: Tx, q: CohortQuery): Promise<ComputedCohort> {
  if (q.from.getTime() >= q.to.getTime()) throw new RangeError('the window must start before it ends');
  const { rows } = await tx.query<{ account_id: string; categories: string[]; excluded: boolean }>(COHORT_SQL, [
    q.from,
    q.to,
    q.excludePasswordChangedBefore,
    q.onlyTouchedByOthers,
    new Date(q.from.getTime() - LAST_SEEN_SLACK_MS),
  ]);
  const byCategory = Object.fromEntries(COHORT_CATEGORIES.map((c) => [c, 0])) as Record<CohortCategory, number>;
  const members: CohortMember[] = [];
  let excludedPasswordChanged = 0;
  for (const r of rows) {
    if (r.excluded) {
      excludedPasswordChanged++;
      continue;
    }
    const categories = r.categories.filter((c): c is CohortCategory => (COHORT_CATEGORIES as readonly string[]).includes(c));
    for (const c of categories) byCategory[c]++;
    members.push({ accountId: r.account_id, categories });
  }
  return { members, total: members.length, byCategory, excludedPasswordChanged };
}

export interface CohortRun {
  incident: Incident;
  cohort: ComputedCohort;
  /** The saved cohort's id with apply, null for a dry run. */
  cohortId: string | null;
}

/** The options as saved with the cohort and shown in the timeline (instants in ISO 8601). */
export function cohortOptions(q: CohortQuery): Cohort['options'] {
  return { excludePasswordChangedBefore: q.excludePasswordChangedBefore?.toISOString() ?? null, onlyTouchedByOthers: q.onlyTouchedByOthers };
}

/**
 * Computes the cohort of an incident (the one named, or the only open one), saves it with
 * apply, and records a 'cohort' step either way: counts and options, never an account id.
 */
export function runCohort(
  db: Database,
  clock: Clock,
  o: CohortQuery & { incident: string | undefined; by: IncidentActor; apply: boolean },
): Promise<CohortRun> {
  return system(db, 'incident:cohort', async (tx) => {
    const incident = await resolveIncident(tx, o.incident);
    const cohort = await computeCohort(tx, o);
    const options = cohortOptions(o);
    const saved = o.apply ? await saveCohort(tx, clock, incident, { from: o.from, to: o.to, options, by: o.by, members: cohort.members }) : null;
    await recordStep(tx, clock, incident, {
      kind: 'cohort',
      by: o.by,
      applied: o.apply,
      summary: {
        from: o.from.toISOString(),
        to: o.to.toISOString(),
        ...options,
        total: cohort.total,
        byCategory: { ...cohort.byCategory },
        excludedPasswordChanged: cohort.excludedPasswordChanged,
        cohortId: saved?.id ?? null,
      },
    });
    return { incident, cohort, cohortId: saved?.id ?? null };
  });
}
