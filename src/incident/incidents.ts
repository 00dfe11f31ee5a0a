import { audit } from '../audit/log.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../crypto/random.ts';
import { system, type Tx } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';

/**
 * An incident and its timeline. Every incident command (access, cohort, cancel,
 * reset-credentials, notify, report) records one step here, dry runs included, in the
 * transaction that does the work, with an `incident.step` audit event: the timeline is what
 * the Article 33 report lists as "measures taken".
 */
export interface Incident {
  id: string;
  reference: string;
  title: string;
  detectedAt: Date;
  openedAt: Date;
  openedBy: string;
  closedAt: Date | null;
}

export const STEP_KINDS = ['opened', 'access', 'cohort', 'cancel', 'reset-credentials', 'notify', 'report', 'closed'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** Counts, ids and options only (the audit and the report read it): never personal data. */
export type StepSummary = { [key: string]: string | number | boolean | null | string[] | { [key: string]: number } };

export interface IncidentStep {
  seq: number;
  at: Date;
  by: string;
  kind: StepKind;
  applied: boolean;
  summary: StepSummary;
}

/** Who acts: an operator at the CLI (their login), a staff member in the console, the system. */
export type IncidentActor = { kind: 'operator' | 'staff' | 'system'; name: string };
export const actorLabel = (a: IncidentActor): string => `${a.kind}:${a.name}`;

export class UnknownIncidentError extends Error {
  override name = 'UnknownIncidentError';
}

interface IncidentRow extends Record<string, unknown> {
  id: string;
  reference: string;
  title: string;
  detected_at: Date;
  opened_at: Date;
  opened_by: string;
  closed_at: Date | null;
}

const COLUMNS = 'id, reference, title, detected_at, opened_at, opened_by, closed_at';
const toIncident = (r: IncidentRow): Incident => ({
  id: r.id,
  reference: r.reference,
  title: r.title,
  detectedAt: r.detected_at,
  openedAt: r.opened_at,
  openedBy: r.opened_by,
  closedAt: r.closed_at,
});

export const TITLE_MAX = 200;
export const REFERENCE = /^INC-\d{4}-\d{3,}$/;

export async function openIncident(
  db: Database,
  clock: Clock,
  o: { title: string; detectedAt: Date; by: IncidentActor; /** Run in the same transaction (the console's own audit event). */ also?: (tx: Tx, incident: Incident) => Promise<void> },
): Promise<Incident> {
  const title = o.title.trim();
  if (title === '' || title.length > TITLE_MAX || /\p{Cc}/u.test(title)) throw new RangeError(`the title must be 1 to ${TITLE_MAX} characters on one line`);
  const now = clock.now();
  if (o.detectedAt.getTime() > now.getTime()) throw new RangeError('the detection time is in the future');
  return system(db, 'incident:open', async (tx) => {
    const year = now.getUTCFullYear();
    // Numbers per year without gaps or doubles when two operators open one at once.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('incident-reference', 0))`);
    const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM incidents WHERE reference LIKE $1`, [`INC-${year}-%`]);
    const reference = `INC-${year}-${String((rows[0]?.n ?? 0) + 1).padStart(3, '0')}`;
    const id = newId();
    const inserted = await tx.query<IncidentRow>(
      `INSERT INTO incidents (id, reference, title, detected_at, opened_at, opened_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [id, reference, title, o.detectedAt, now, actorLabel(o.by)],
    );
    const incident = toIncident(inserted.rows[0] as IncidentRow);
    await recordStep(tx, clock, incident, { kind: 'opened', by: o.by, applied: true, summary: { detectedAt: o.detectedAt.toISOString() } });
    await o.also?.(tx, incident);
    return incident;
  });
}

export async function findIncident(tx: Tx, reference: string): Promise<Incident | null> {
  const { rows } = await tx.query<IncidentRow>(`SELECT ${COLUMNS} FROM incidents WHERE reference = $1`, [reference.toUpperCase()]);
  return rows[0] ? toIncident(rows[0]) : null;
}

/** The incident named, or the only open one when none is named. */
export async function resolveIncident(tx: Tx, reference: string | undefined): Promise<Incident> {
  if (reference !== undefined) {
    const found = await findIncident(tx, reference);
    if (!found) throw new UnknownIncidentError(`no incident ${reference.toUpperCase()}`);
    return found;
  }
  const { rows } = await tx.query<IncidentRow>(`SELECT ${COLUMNS} FROM incidents WHERE closed_at IS NULL ORDER BY opened_at DESC LIMIT 2`);
  if (rows.length === 0) throw new UnknownIncidentError('no open incident: open one with `sesame incident open`');
  if (rows.length > 1) throw new UnknownIncidentError('several incidents are open: name one with --incident INC-…');
  return toIncident(rows[0] as IncidentRow);
}

export async function listIncidents(tx: Tx, o: { openOnly: boolean }): Promise<Incident[]> {
  const { rows } = await tx.query<IncidentRow>(`SELECT ${COLUMNS} FROM incidents ${o.openOnly ? 'WHERE closed_at IS NULL' : ''} ORDER BY opened_at DESC`);
  return rows.map(toIncident);
}

/** One step of the timeline and its audit event, in the caller's transaction. */
export async function recordStep(tx: Tx, clock: Clock, incident: Incident, o: { kind: StepKind; by: IncidentActor; applied: boolean; summary: StepSummary }): Promise<void> {
  tx.send(`INSERT INTO incident_steps (incident_id, at, by, kind, applied, summary) VALUES ($1, $2, $3, $4, $5, $6)`, [
    incident.id,
    clock.now(),
    actorLabel(o.by),
    o.kind,
    o.applied,
    JSON.stringify(o.summary),
  ]);
  await audit(
    tx,
    clock,
    { type: 'incident.step', accountId: null, payload: { incidentId: incident.id, reference: incident.reference, step: o.kind, applied: o.applied } },
    o.by.kind === 'operator' ? o.by.name : undefined,
  );
}

export async function timelineOf(tx: Tx, incident: Incident): Promise<IncidentStep[]> {
  const { rows } = await tx.query<{ seq: string; at: Date; by: string; kind: StepKind; applied: boolean; summary: StepSummary }>(
    `SELECT seq, at, by, kind, applied, summary FROM incident_steps WHERE incident_id = $1 ORDER BY seq`,
    [incident.id],
  );
  return rows.map((r) => ({ seq: Number(r.seq), at: r.at, by: r.by, kind: r.kind, applied: r.applied, summary: r.summary }));
}

export async function closeIncident(db: Database, clock: Clock, o: { reference: string; by: IncidentActor }): Promise<{ incident: Incident; changed: boolean }> {
  return system(db, 'incident:close', async (tx) => {
    const incident = await resolveIncident(tx, o.reference);
    const { rows } = await tx.query<IncidentRow>(`UPDATE incidents SET closed_at = $2 WHERE id = $1 AND closed_at IS NULL RETURNING ${COLUMNS}`, [incident.id, clock.now()]);
    if (!rows[0]) return { incident, changed: false };
    const closed = toIncident(rows[0]);
    await recordStep(tx, clock, closed, { kind: 'closed', by: o.by, applied: true, summary: {} });
    return { incident: closed, changed: true };
  });
}
