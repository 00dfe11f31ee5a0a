import type { Clock } from '../clock.ts';
import { newId } from '../crypto/random.ts';
import { UUID, type Tx } from '../db/contexts.ts';
import { STAFF_POLICY } from './policy.ts';

/**
 * A console WebAuthn ceremony (enrolment, login, step-up) as a row, like citizens' flows: bound
 * to the browser that started it (CSRF binding) and, for a step-up, to its session; the
 * challenge is taken once, whatever the outcome; a finished ceremony is never used again.
 */
export type CeremonyKind = 'enrol' | 'login' | 'step-up';

export interface Ceremony {
  id: string;
  kind: CeremonyKind;
  staffId: string | null;
  sessionId: string | null;
  enrolmentCodeId: string | null;
  returnTo: string | null;
  keptForm: Record<string, string> | null;
}

interface Row extends Record<string, unknown> {
  id: string;
  kind: CeremonyKind;
  staff_id: string | null;
  session_id: string | null;
  enrolment_code_id: string | null;
  csrf_binding: string;
  return_to: string | null;
  kept_form: Record<string, string> | null;
  expires_at: Date;
  used_at: Date | null;
}

export async function createCeremony(
  tx: Tx,
  clock: Clock,
  o: { kind: CeremonyKind; csrfBinding: string; staffId?: string; sessionId?: string; enrolmentCodeId?: string; returnTo?: string; keptForm?: Record<string, string> },
): Promise<string> {
  const id = newId();
  const now = clock.now();
  await tx.query(
    `INSERT INTO staff_ceremonies (id, kind, staff_id, session_id, enrolment_code_id, csrf_binding, return_to, kept_form, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [id, o.kind, o.staffId ?? null, o.sessionId ?? null, o.enrolmentCodeId ?? null, o.csrfBinding, o.returnTo ?? null, o.keptForm ? JSON.stringify(o.keptForm) : null, now, new Date(now.getTime() + STAFF_POLICY.ceremonyTtl * 1000)],
  );
  return id;
}

/**
 * The ceremony if it is live, of this kind, this browser's and (step-up) this session's; a
 * foreign or unknown one reads as not found. Locked: its challenge is taken in this transaction.
 */
export async function loadCeremony(tx: Tx, clock: Clock, id: string, o: { kind: CeremonyKind; csrfBinding: string; sessionId?: string }): Promise<Ceremony | null> {
  if (!UUID.test(id)) return null;
  const { rows } = await tx.query<Row>(
    `SELECT id, kind, staff_id, session_id, enrolment_code_id, csrf_binding, return_to, kept_form, expires_at, used_at FROM staff_ceremonies WHERE id = $1 FOR UPDATE`,
    [id],
  );
  const r = rows[0];
  if (!r || r.kind !== o.kind || r.csrf_binding !== o.csrfBinding || r.used_at !== null || r.expires_at.getTime() <= clock.now().getTime()) return null;
  if (o.kind === 'step-up' && r.session_id !== o.sessionId) return null;
  return { id: r.id, kind: r.kind, staffId: r.staff_id, sessionId: r.session_id, enrolmentCodeId: r.enrolment_code_id, returnTo: r.return_to, keptForm: r.kept_form };
}

export function setChallenge(tx: Tx, id: string, challenge: string): void {
  tx.send(`UPDATE staff_ceremonies SET challenge = $2 WHERE id = $1`, [id, challenge]);
}

/** The challenge, taken: an answer to it is looked at once. */
export async function takeChallenge(tx: Tx, id: string): Promise<string | null> {
  const { rows } = await tx.query<{ challenge: string | null }>(
    `UPDATE staff_ceremonies c SET challenge = NULL FROM (SELECT id, challenge FROM staff_ceremonies WHERE id = $1) old WHERE c.id = old.id RETURNING old.challenge`,
    [id],
  );
  return rows[0]?.challenge ?? null;
}

export function finishCeremony(tx: Tx, clock: Clock, id: string): void {
  tx.send(`UPDATE staff_ceremonies SET used_at = $2 WHERE id = $1`, [id, clock.now()]);
}
