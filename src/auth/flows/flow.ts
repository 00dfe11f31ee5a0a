import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { UUID, type Tx } from '../../db/contexts.ts';
import { newId } from '../../crypto/random.ts';
import type { Level } from '../levels.ts';
import type { MethodId } from '../methods/method.ts';

/**
 * Flows are rows (DESIGN principle 4): every step loads its flow, checks that it is alive
 * and belongs to this browser, and locks it, so that two submissions of one flow (double
 * click, two tabs, an attacker racing) are applied one after the other.
 */
/** step-up and confirm flows belong to a session: a stronger level, or a fresh email code, for a sensitive operation. */
export type FlowKind = 'login' | 'activation' | 'recovery' | 'step-up' | 'confirm';

export interface Flow {
  id: string;
  kind: FlowKind;
  state: string;
  /** Null when the NIR matched no account: the flow plays along so that pages never tell. */
  accountId: string | null;
  requestedLevel: Level;
  completedMethods: MethodId[];
  codeFailures: number;
  codesSent: number;
  lastCodeSentAt: Date | null;
  createdAt: Date;
  expiresAt: Date;
  /** step-up and confirm: the session they raise. */
  sessionId: string | null;
  /** Where the citizen goes once the flow is done (a local path). */
  returnTo: string | null;
  /** The strong authenticator that completed a method of this flow, for its cooling-off. */
  authenticatorId: string | null;
}

interface FlowRow extends Record<string, unknown> {
  id: string;
  kind: FlowKind;
  state: string;
  account_id: string | null;
  csrf_binding: string;
  requested_level: Level;
  completed_methods: MethodId[];
  code_failures: number;
  codes_sent: number;
  last_code_sent_at: Date | null;
  created_at: Date;
  expires_at: Date;
  ended_at: Date | null;
  session_id: string | null;
  return_to: string | null;
  authenticator_id: string | null;
}

// Named columns, never `*`: statements are prepared once per connection, and a column added
// by a later migration must not change what a cached statement returns.
const COLUMNS = `id, kind, state, account_id, csrf_binding, requested_level, completed_methods, code_failures, codes_sent,
  last_code_sent_at, created_at, expires_at, ended_at, session_id, return_to, authenticator_id`;

const toFlow = (r: FlowRow): Flow => ({
  id: r.id,
  kind: r.kind,
  state: r.state,
  accountId: r.account_id,
  requestedLevel: r.requested_level,
  completedMethods: r.completed_methods,
  codeFailures: r.code_failures,
  codesSent: r.codes_sent,
  lastCodeSentAt: r.last_code_sent_at,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  sessionId: r.session_id,
  returnTo: r.return_to,
  authenticatorId: r.authenticator_id,
});

export async function createFlow(
  tx: Tx,
  clock: Clock,
  input: {
    kind: FlowKind;
    state: string;
    accountId: string | null;
    csrfBinding: string;
    ttlSeconds: number;
    completed?: MethodId[];
    requestedLevel?: Level;
    sessionId?: string;
    returnTo?: string;
    /** The form posted when the flow was asked for, sealed under the account's key (bound to the new flow's id). */
    keptForm?: (flowId: string) => Buffer;
  },
): Promise<Flow> {
  const now = clock.now();
  const flow: Flow = {
    id: newId(),
    kind: input.kind,
    state: input.state,
    accountId: input.accountId,
    requestedLevel: input.requestedLevel ?? 'eidas1',
    completedMethods: input.completed ?? [],
    codeFailures: 0,
    codesSent: 0,
    lastCodeSentAt: null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + input.ttlSeconds * 1000),
    sessionId: input.sessionId ?? null,
    returnTo: input.returnTo ?? null,
    authenticatorId: null,
  };
  tx.send(
    `INSERT INTO auth_flows (id, kind, state, account_id, csrf_binding, requested_level, completed_methods, created_at, expires_at, session_id, return_to, kept_form)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [flow.id, flow.kind, flow.state, flow.accountId, input.csrfBinding, flow.requestedLevel, flow.completedMethods, now, flow.expiresAt, flow.sessionId, flow.returnTo, input.keptForm?.(flow.id) ?? null],
  );
  return flow;
}

export type FlowProblem = 'not-found' | 'expired' | 'ended' | 'other-browser';


const sameBinding = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Loads and locks a live flow of this kind for this browser. A flow of another kind is
 * "not found": an activation flow id cannot be replayed on the login pages.
 */
export async function loadFlow(tx: Tx, clock: Clock, id: string, expect: { kind: FlowKind; csrfBinding: string }): Promise<{ ok: true; flow: Flow } | { ok: false; problem: FlowProblem }> {
  if (!UUID.test(id)) return { ok: false, problem: 'not-found' };
  const { rows } = await tx.query<FlowRow>(`SELECT ${COLUMNS} FROM auth_flows WHERE id = $1 AND kind = $2 FOR UPDATE`, [id, expect.kind]);
  const row = rows[0];
  if (!row) return { ok: false, problem: 'not-found' };
  if (!sameBinding(row.csrf_binding, expect.csrfBinding)) return { ok: false, problem: 'other-browser' };
  if (row.ended_at !== null) return { ok: false, problem: 'ended' };
  if (row.expires_at.getTime() <= clock.now().getTime()) return { ok: false, problem: 'expired' };
  return { ok: true, flow: toFlow(row) };
}

/** Moves the flow to its next state, recording a completed method if one was. */
export async function advanceFlow(tx: Tx, flow: Flow, state: string, completed?: MethodId): Promise<Flow> {
  const methods = completed ? withMethod(flow, completed) : flow.completedMethods;
  tx.send(`UPDATE auth_flows SET state = $2, completed_methods = $3 WHERE id = $1`, [flow.id, state, methods]);
  return { ...flow, state, completedMethods: methods };
}

/**
 * Ends the flow for good (done, failed): its id answers "ended" from now on. `completed`, the
 * flow with the method that just finished it, is recorded in the same statement.
 */
export async function endFlow(tx: Tx, clock: Clock, flowId: string, state: string, completed?: readonly MethodId[]): Promise<void> {
  tx.send(
    `WITH revoked AS (UPDATE one_time_codes SET revoked_at = $3 WHERE flow_id = $1 AND used_at IS NULL AND revoked_at IS NULL)
     UPDATE auth_flows SET state = $2, ended_at = $3, completed_methods = coalesce($4, completed_methods), kept_form = NULL WHERE id = $1`,
    [flowId, state, clock.now(), completed ?? null],
  );
}

/** The flow's methods with one more (once). */
export const withMethod = (flow: Flow, method: MethodId): MethodId[] => (flow.completedMethods.includes(method) ? flow.completedMethods : [...flow.completedMethods, method]);

/**
 * Ends every open flow of the account: after a change of password, a login that was
 * waiting for its email code was started with the old password and must not complete.
 */
export async function endAccountFlows(tx: Tx, clock: Clock, accountId: string): Promise<number> {
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE auth_flows SET state = 'superseded', ended_at = $2 WHERE account_id = $1 AND ended_at IS NULL RETURNING id`,
    [accountId, clock.now()],
  );
  if (rows.length > 0) {
    await tx.query(`UPDATE one_time_codes SET revoked_at = $2 WHERE flow_id = ANY($1::uuid[]) AND used_at IS NULL AND revoked_at IS NULL`, [rows.map((r) => r.id), clock.now()]);
  }
  return rows.length;
}

/** The strong authenticator a method of this flow was completed with (its cooling-off applies to the session). */
export function setFlowAuthenticator(tx: Tx, flow: Flow, authenticatorId: string): Flow {
  tx.send(`UPDATE auth_flows SET authenticator_id = $2 WHERE id = $1`, [flow.id, authenticatorId]);
  return { ...flow, authenticatorId };
}

/** Stores the WebAuthn challenge issued for this flow, replacing any earlier one. */
export function setFlowChallenge(tx: Tx, flowId: string, challenge: string): void {
  tx.send(`UPDATE auth_flows SET challenge = $2 WHERE id = $1`, [flowId, challenge]);
}

/** Takes the flow's challenge: it can be answered once, whatever the outcome. */
export async function takeFlowChallenge(tx: Tx, flowId: string): Promise<string | null> {
  const { rows } = await tx.query<{ challenge: string | null }>(
    `UPDATE auth_flows f SET challenge = NULL FROM (SELECT id, challenge FROM auth_flows WHERE id = $1) old WHERE f.id = old.id RETURNING old.challenge`,
    [flowId],
  );
  return rows[0]?.challenge ?? null;
}

/** The encrypted form kept when the flow was asked for, if any. */
export async function keptFormOf(tx: Tx, flowId: string): Promise<Buffer | null> {
  const { rows } = await tx.query<{ kept_form: Uint8Array | null }>(`SELECT kept_form FROM auth_flows WHERE id = $1`, [flowId]);
  const blob = rows[0]?.kept_form;
  return blob ? Buffer.from(blob) : null;
}
