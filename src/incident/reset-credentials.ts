import { audit } from '../audit/log.ts';
import { endAccountFlows } from '../auth/flows/flow.ts';
import { endOtherSessions } from '../auth/sessions.ts';
import type { Clock } from '../clock.ts';
import { system, type Tx } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import type { Cohort } from './cohort-store.ts';
import { recordStep, type Incident, type IncidentActor } from './incidents.ts';

/**
 * `incident reset-credentials`: for every account of the cohort, whoever held its password or
 * added a way to log in during the window loses it. Every live session ends (levels included),
 * logins and recoveries in progress end, the password is marked reset (it still verifies, and
 * the login then says to choose a new one with "Forgotten password", which clears the mark),
 * and the authenticators added in the window are removed (with the recovery codes made in it).
 * Older authenticators stay: the owner had them before anything happened.
 *
 * One row per account in incident_resets, written in the account's reset transaction: a
 * re-run, or a second operator at the same moment, skips it, so a citizen who has recovered
 * since is not reset again.
 */
export interface ResetCounts {
  /** Accounts reset by this run (or that a dry run would reset). */
  accounts: number;
  sessionsEnded: number;
  authenticatorsRemoved: number;
  /** Reset by an earlier run for this incident: left alone. */
  alreadyReset: number;
  /** Cohort members whose account no longer exists. */
  missing: number;
}

const BATCH = 100;
const REASON = 'incident:reset-credentials';

export async function resetCredentials(
  db: Database,
  clock: Clock,
  o: { incident: Incident; cohort: Cohort; by: IncidentActor; apply: boolean },
): Promise<ResetCounts> {
  const ids = o.cohort.members.map((m) => m.accountId);
  const counts: ResetCounts = { accounts: 0, sessionsEnded: 0, authenticatorsRemoved: 0, alreadyReset: 0, missing: 0 };
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = ids.slice(i, i + BATCH);
    const done = await system(db, REASON, (tx) => (o.apply ? resetBatch(tx, clock, o, batch) : previewBatch(tx, o, batch)));
    for (const k of Object.keys(counts) as (keyof ResetCounts)[]) counts[k] += done[k];
  }
  await system(db, REASON, (tx) =>
    recordStep(tx, clock, o.incident, {
      kind: 'reset-credentials',
      by: o.by,
      applied: o.apply,
      summary: { cohortId: o.cohort.id, ...counts },
    }),
  );
  return counts;
}

type Scope = { incident: Incident; cohort: Cohort; by: IncidentActor };

/** What a run would do, without doing it. */
async function previewBatch(tx: Tx, o: Scope, batch: string[]): Promise<ResetCounts> {
  const { rows } = await tx.query<{ exists: boolean; reset: boolean; sessions: number; authenticators: number }>(
    `SELECT a.id IS NOT NULL AS exists,
            EXISTS (SELECT 1 FROM incident_resets r WHERE r.incident_id = $2 AND r.account_id = m.id) AS reset,
            (SELECT count(*)::int FROM sessions s WHERE s.account_id = m.id AND s.ended_at IS NULL) AS sessions,
            (SELECT count(*)::int FROM authenticators au WHERE au.account_id = m.id AND au.removed_at IS NULL AND au.created_at >= $3 AND au.created_at < $4) AS authenticators
       FROM unnest($1::uuid[]) AS m(id) LEFT JOIN accounts a ON a.id = m.id`,
    [batch, o.incident.id, o.cohort.from, o.cohort.to],
  );
  const counts: ResetCounts = { accounts: 0, sessionsEnded: 0, authenticatorsRemoved: 0, alreadyReset: 0, missing: 0 };
  for (const r of rows) {
    if (!r.exists) counts.missing++;
    else if (r.reset) counts.alreadyReset++;
    else {
      counts.accounts++;
      counts.sessionsEnded += r.sessions;
      counts.authenticatorsRemoved += r.authenticators;
    }
  }
  return counts;
}

async function resetBatch(tx: Tx, clock: Clock, o: Scope, batch: string[]): Promise<ResetCounts> {
  // Two runs at once take turns batch by batch; the second then finds the accounts reset.
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('incident-reset:' || $1::text, 0))`, [o.incident.id]);
  const { rows } = await tx.query<{ id: string; exists: boolean; reset: boolean }>(
    `SELECT m.id, a.id IS NOT NULL AS exists, r.account_id IS NOT NULL AS reset
       FROM unnest($1::uuid[]) AS m(id)
       LEFT JOIN accounts a ON a.id = m.id
       LEFT JOIN incident_resets r ON r.incident_id = $2 AND r.account_id = m.id`,
    [batch, o.incident.id],
  );
  const counts: ResetCounts = { accounts: 0, sessionsEnded: 0, authenticatorsRemoved: 0, alreadyReset: 0, missing: 0 };
  for (const r of rows) {
    if (!r.exists) counts.missing++;
    else if (r.reset) counts.alreadyReset++;
    else {
      const done = await resetAccount(tx, clock, o, r.id);
      counts.accounts++;
      counts.sessionsEnded += done.sessionsEnded;
      counts.authenticatorsRemoved += done.authenticatorsRemoved;
    }
  }
  return counts;
}

/**
 * One account. The password is marked first: it locks the credentials row, so a login that
 * verified the old password at this moment either sees the mark or has committed its flow
 * before the flows are ended below.
 */
async function resetAccount(tx: Tx, clock: Clock, o: Scope, accountId: string): Promise<{ sessionsEnded: number; authenticatorsRemoved: number }> {
  const now = clock.now();
  await tx.query(`UPDATE credentials SET reset_required_at = $2 WHERE account_id = $1 AND kind = 'password'`, [accountId, now]);
  await endAccountFlows(tx, clock, accountId);
  const sessionsEnded = await endOtherSessions(tx, clock, accountId, null, 'incident-reset');
  const { rows: removed } = await tx.query<{ id: string; kind: 'passkey' | 'totp' | 'device' }>(
    `UPDATE authenticators SET removed_at = $4 WHERE account_id = $1 AND removed_at IS NULL AND created_at >= $2 AND created_at < $3 RETURNING id, kind`,
    [accountId, o.cohort.from, o.cohort.to, now],
  );
  // Audited like any removal; not mailed one by one: the incident notice tells the owner.
  for (const r of removed) await audit(tx, clock, { type: 'authenticator.removed', accountId, payload: { authenticatorId: r.id, kind: r.kind } }, operatorName(o.by));
  // A set of recovery codes made in the window was shown to whoever made it, even for an app
  // that stays: gone too (the owner makes a new set from "Sécurité du compte").
  await tx.query(`DELETE FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL AND created_at >= $2 AND created_at < $3`, [accountId, o.cohort.from, o.cohort.to]);
  tx.send(`INSERT INTO incident_resets (incident_id, account_id, at, sessions_ended, authenticators_removed) VALUES ($1, $2, $3, $4, $5)`, [
    o.incident.id,
    accountId,
    now,
    sessionsEnded,
    removed.length,
  ]);
  await audit(
    tx,
    clock,
    { type: 'incident.credentials-reset', accountId, payload: { incidentId: o.incident.id, sessionsEnded, authenticatorsRemoved: removed.length } },
    operatorName(o.by),
  );
  return { sessionsEnded, authenticatorsRemoved: removed.length };
}

const operatorName = (by: IncidentActor): string | undefined => (by.kind === 'operator' ? by.name : undefined);

/** The counts an account's reset recorded (null: not reset for this incident). */
export async function resetOf(tx: Tx, incident: Incident, accountIds: readonly string[]): Promise<Map<string, { sessionsEnded: number; authenticatorsRemoved: number }>> {
  const { rows } = await tx.query<{ account_id: string; sessions_ended: number; authenticators_removed: number }>(
    `SELECT account_id, sessions_ended, authenticators_removed FROM incident_resets WHERE incident_id = $1 AND account_id = ANY($2::uuid[])`,
    [incident.id, accountIds],
  );
  return new Map(rows.map((r) => [r.account_id, { sessionsEnded: r.sessions_ended, authenticatorsRemoved: r.authenticators_removed }]));
}
