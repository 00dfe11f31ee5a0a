import { randomInt } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { newId } from '../../crypto/random.ts';
import { audit } from '../../audit/log.ts';
import { UUID, type Tx } from '../../db/contexts.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import { MailRecipientError, queueMail } from '../../mail/outbox.ts';
import type { MailLocale } from '../../mail/templates/types.ts';
import type { AuthPolicy } from '../policy.ts';
import { endOtherSessions } from '../sessions.ts';
import { endAccountFlows, endFlow, type Flow } from '../flows/flow.ts';
import type { Device } from './device-key.ts';

/**
 * Device approval with number matching (DESIGN "Levels": password + device approval is
 * eidas2). The computer shows one number, the phone shows three: approving means picking the
 * right one, so a request the citizen did not start (an attacker who has the password sending
 * requests until a tired tap accepts one: push bombing) cannot be approved by reflex. Requests
 * are few (approvalsPerWindow per account) and short-lived (approvalTtl).
 */

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'mismatch';

interface ApprovalDeps {
  ring: KeyRing;
  clock: Clock;
  policy: AuthPolicy;
}

interface ApprovalRow extends Record<string, unknown> {
  id: string;
  flow_id: string;
  account_id: string;
  authenticator_id: string;
  numbers: number[];
  expected: number;
  status: ApprovalStatus;
  browser: string | null;
  os: string | null;
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  used_at: Date | null;
}

const COLUMNS = `id, flow_id, account_id, authenticator_id, numbers, expected, status, browser, os, created_at, expires_at, decided_at, used_at`;
/** The same columns of `ap`, an approval joined with its device's authenticator `a`. */
const AP_COLUMNS = COLUMNS.split(', ')
  .map((c) => `ap.${c}`)
  .join(', ');
/**
 * An approval whose device is still there, both rows locked: the approval to change it, the
 * authenticator FOR SHARE so that a removal of the device waits for this transaction (and one
 * that committed first leaves no row). An approval dies with its device, even approved.
 */
const LIVE_APPROVAL = `SELECT ${AP_COLUMNS} FROM device_approvals ap JOIN authenticators a ON a.id = ap.authenticator_id AND a.removed_at IS NULL`;
const LOCKED = `FOR UPDATE OF ap FOR SHARE OF a`;

/**
 * After a denial or a wrong number, the account's device approvals are suspended this long
 * (DESIGN "Levels"): whoever asked knows the password, and with one guess in three per request
 * they must not be able to keep asking until a tap lands on the right number. The citizen can
 * still log in by another method meanwhile.
 */
export const SUSPENSION_AFTER_REFUSAL_SECONDS = 60 * 60;

/** Three distinct numbers from 10 to 99 in random order, one of them (chosen by the CSPRNG) expected. */
export function drawNumbers(): { numbers: [number, number, number]; expected: number } {
  const picked = new Set<number>();
  while (picked.size < 3) picked.add(randomInt(10, 100));
  const numbers = [...picked] as [number, number, number];
  return { numbers, expected: numbers[randomInt(3)] as number };
}

export type StartRefusal = { reason: 'rate-limit' | 'no-device' } | { reason: 'suspended'; until: Date };
export type StartResult = { ok: true; approvalId: string; expected: number; expiresAt: Date } | ({ ok: false } & StartRefusal);

/**
 * Sends a request to the account's device for this (locked) flow. The count of the account's
 * requests in the window runs under an advisory lock per account, so that parallel requests
 * (several flows, several tabs) cannot together exceed the cap. A request still pending for
 * the same flow is replaced: only the latest number works. After a denial or a wrong number,
 * none is sent for SUSPENSION_AFTER_REFUSAL_SECONDS (audited as a rate limit).
 */
export async function startApproval(tx: Tx, deps: ApprovalDeps, flow: Flow, o: { browser: string | null; os: string | null; requestId?: string }): Promise<StartResult> {
  const { clock, policy } = deps;
  const accountId = flow.accountId;
  if (!accountId) return { ok: false, reason: 'no-device' };
  const now = clock.now();
  const refuse = async (refusal: StartRefusal): Promise<StartResult> => {
    const reason = refusal.reason === 'no-device' ? 'no-device' : 'rate-limit';
    await audit(tx, clock, { type: 'approval.refused', accountId, requestId: o.requestId, payload: { flowId: flow.id, reason } });
    return { ok: false, ...refusal };
  };
  // The lock is taken first; the reads are pipelined behind it and run once it is held.
  const [, counted, devices, refused] = await Promise.all([
    tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('approvals:' || $1, 0))`, [accountId]),
    tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM device_approvals WHERE account_id = $1 AND created_at > $2`, [accountId, new Date(now.getTime() - policy.approvalWindow * 1000)]),
    // The newest live device gets the request.
    tx.query<{ authenticator_id: string }>(
      `SELECT d.authenticator_id FROM approval_devices d JOIN authenticators a ON a.id = d.authenticator_id AND a.removed_at IS NULL
        WHERE d.account_id = $1 ORDER BY d.created_at DESC, d.authenticator_id LIMIT 1`,
      [accountId],
    ),
    tx.query<{ last: Date | null }>(`SELECT max(decided_at) AS last FROM device_approvals WHERE account_id = $1 AND status IN ('denied', 'mismatch') AND decided_at > $2`, [
      accountId,
      new Date(now.getTime() - SUSPENSION_AFTER_REFUSAL_SECONDS * 1000),
    ]),
  ]);
  const device = devices.rows[0]?.authenticator_id;
  if (!device) return refuse({ reason: 'no-device' });
  const lastRefusal = refused.rows[0]?.last;
  if (lastRefusal) return refuse({ reason: 'suspended', until: new Date(lastRefusal.getTime() + SUSPENSION_AFTER_REFUSAL_SECONDS * 1000) });
  if ((counted.rows[0]?.n ?? 0) >= policy.approvalsPerWindow) return refuse({ reason: 'rate-limit' });
  const { numbers, expected } = drawNumbers();
  const id = newId();
  const expiresAt = new Date(now.getTime() + policy.approvalTtl * 1000);
  tx.send(`UPDATE device_approvals SET status = 'expired', decided_at = $2 WHERE flow_id = $1 AND status = 'pending'`, [flow.id, now]);
  tx.send(
    `INSERT INTO device_approvals (id, flow_id, account_id, authenticator_id, numbers, expected, status, browser, os, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10)`,
    [id, flow.id, accountId, device, numbers, expected, o.browser?.slice(0, 60) ?? null, o.os?.slice(0, 60) ?? null, now, expiresAt],
  );
  await audit(tx, clock, { type: 'approval.requested', accountId, requestId: o.requestId, payload: { flowId: flow.id, approvalId: id, deviceId: device } });
  return { ok: true, approvalId: id, expected, expiresAt };
}

/** What the device shows for a pending request. */
export interface PendingRequest {
  id: string;
  numbers: number[];
  browser: string | null;
  os: string | null;
  createdAt: Date;
  expiresAt: Date;
}

/** The device's live requests, oldest first. */
export async function pendingForDevice(tx: Tx, clock: Clock, device: Device): Promise<PendingRequest[]> {
  const { rows } = await tx.query<ApprovalRow>(
    `SELECT ${COLUMNS} FROM device_approvals WHERE authenticator_id = $1 AND account_id = $2 AND status = 'pending' AND expires_at > $3 ORDER BY created_at, id`,
    [device.authenticatorId, device.accountId, clock.now()],
  );
  return rows.map((r) => ({ id: r.id, numbers: r.numbers, browser: r.browser, os: r.os, createdAt: r.created_at, expiresAt: r.expires_at }));
}

/** Marks a pending request past its time as expired (and audits it); returns whether it was. */
async function expireIfLate(tx: Tx, clock: Clock, row: ApprovalRow, requestId?: string): Promise<boolean> {
  const now = clock.now();
  if (row.status !== 'pending' || row.expires_at.getTime() > now.getTime()) return false;
  tx.send(`UPDATE device_approvals SET status = 'expired', decided_at = $2 WHERE id = $1 AND status = 'pending'`, [row.id, now]);
  await audit(tx, clock, { type: 'approval.decided', accountId: row.account_id, requestId, payload: { flowId: row.flow_id, approvalId: row.id, decision: 'expired' } });
  return true;
}

export type Decision = { decision: 'approve'; number: number } | { decision: 'deny' };
export type DecideResult = 'approved' | 'denied' | 'mismatch' | 'expired' | 'gone';

/**
 * The device's answer to a request (the device already authenticated by its signature). Locks
 * the flow before the request (and its device), in the order the login side does, so that the
 * two cannot deadlock. A request that is not this device's, or no longer pending, or whose
 * device was removed meanwhile, is 'gone': nothing tells a foreign device whether it exists.
 * A denial and a wrong number end the flow alike: whoever asked knows the password (a wrong
 * number may be a reflex tap on a request the citizen did not make).
 */
export async function decideApproval(tx: Tx, deps: ApprovalDeps, device: Device, approvalId: string, d: Decision, o: { locale: MailLocale; requestId?: string }): Promise<DecideResult> {
  const { clock } = deps;
  if (!UUID.test(approvalId)) return 'gone';
  const found = await tx.query<{ flow_id: string }>(`SELECT flow_id FROM device_approvals WHERE id = $1`, [approvalId]);
  const flowId = found.rows[0]?.flow_id;
  if (!flowId) return 'gone';
  const [flowRows, { rows }] = await Promise.all([
    tx.query<{ ended_at: Date | null }>(`SELECT ended_at FROM auth_flows WHERE id = $1 FOR UPDATE`, [flowId]),
    tx.query<ApprovalRow>(`${LIVE_APPROVAL} WHERE ap.id = $1 ${LOCKED}`, [approvalId]),
  ]);
  const row = rows[0];
  // Its device removed since this request was authenticated: nothing to decide.
  if (!row) return 'gone';
  if (row.authenticator_id !== device.authenticatorId || row.account_id !== device.accountId) {
    await audit(tx, clock, { type: 'method.failed', accountId: device.accountId, requestId: o.requestId, payload: { flowId: null, method: 'device-approval', reason: 'foreign-request' } });
    return 'gone';
  }
  if (row.status !== 'pending') return 'gone';
  if (await expireIfLate(tx, clock, row, o.requestId)) return 'expired';
  // A flow finished or ended meanwhile (another method, another tab): nothing to decide.
  if (flowRows.rows[0]?.ended_at !== null) {
    tx.send(`UPDATE device_approvals SET status = 'expired', decided_at = $2 WHERE id = $1`, [row.id, clock.now()]);
    return 'gone';
  }
  const now = clock.now();
  const decided = (status: ApprovalStatus): void => tx.send(`UPDATE device_approvals SET status = $2, decided_at = $3 WHERE id = $1`, [row.id, status, now]);
  const payload = (decision: 'approved' | 'denied' | 'mismatch'): { flowId: string; approvalId: string; decision: 'approved' | 'denied' | 'mismatch' } => ({ flowId: row.flow_id, approvalId: row.id, decision });

  const refusal: 'denied' | 'mismatch' | null = d.decision === 'deny' ? 'denied' : d.number !== row.expected ? 'mismatch' : null;
  if (refusal) {
    // Whoever asked knows the password: the flow ends here (one guess only), the owner is told
    // by mail, and the account's approvals are suspended (startApproval).
    decided(refusal);
    await endFlow(tx, clock, row.flow_id, refusal);
    try {
      await queueMail(tx, deps, {
        accountId: row.account_id,
        template: 'approval-denied',
        locale: o.locale,
        params: { reason: refusal, at: row.created_at.toISOString(), browser: row.browser, os: row.os, place: null },
      });
    } catch (err) {
      // No address on file (or shredded): the refusal itself must still stand.
      if (!(err instanceof MailRecipientError)) throw err;
    }
    await audit(tx, clock, { type: 'approval.decided', accountId: row.account_id, requestId: o.requestId, payload: payload(refusal) });
    if (refusal === 'mismatch') {
      await audit(tx, clock, { type: 'method.failed', accountId: row.account_id, requestId: o.requestId, payload: { flowId: row.flow_id, method: 'device-approval', reason: 'number-mismatch' } });
    }
    return refusal;
  }
  decided('approved');
  await audit(tx, clock, { type: 'approval.decided', accountId: row.account_id, requestId: o.requestId, payload: payload('approved') });
  return 'approved';
}

export type FlowApproval = { status: Exclude<ApprovalStatus, 'approved'> | 'gone' } | { status: 'approved'; authenticatorId: string };

/**
 * The login (or step-up) side: the state of this flow's request, taken once when approved
 * (guarded UPDATE, like a code), and only while its device is still there. The flow must be
 * locked by the caller (loadFlow), which orders the locks as decideApproval does.
 */
export async function takeApproval(tx: Tx, clock: Clock, flow: Flow, approvalId: string, requestId?: string): Promise<FlowApproval> {
  if (!UUID.test(approvalId)) return { status: 'gone' };
  const { rows } = await tx.query<ApprovalRow>(`${LIVE_APPROVAL} WHERE ap.id = $1 AND ap.flow_id = $2 AND ap.account_id = $3 ${LOCKED}`, [approvalId, flow.id, flow.accountId]);
  const row = rows[0];
  // Unknown, or its device removed (approved or not, it died with it).
  if (!row) return { status: 'gone' };
  if (await expireIfLate(tx, clock, row, requestId)) return { status: 'expired' };
  if (row.status !== 'approved') return { status: row.status };
  const taken = await tx.query(`UPDATE device_approvals SET used_at = $2 WHERE id = $1 AND status = 'approved' AND used_at IS NULL RETURNING id`, [row.id, clock.now()]);
  if (taken.rows.length !== 1) return { status: 'gone' };
  return { status: 'approved', authenticatorId: row.authenticator_id };
}

/** The state of a flow's request for the waiting page, without changing anything (the flow's browser was checked by the caller). */
export async function approvalState(tx: Tx, clock: Clock, flowId: string, approvalId: string): Promise<{ status: ApprovalStatus | 'gone'; expected: number; expiresAt: Date } | null> {
  if (!UUID.test(approvalId)) return null;
  const { rows } = await tx.query<ApprovalRow & { live: boolean }>(
    `SELECT ${COLUMNS}, EXISTS (SELECT 1 FROM authenticators a WHERE a.id = authenticator_id AND a.removed_at IS NULL) AS live FROM device_approvals WHERE id = $1 AND flow_id = $2`,
    [approvalId, flowId],
  );
  const row = rows[0];
  if (!row) return null;
  const late = row.status === 'pending' && row.expires_at.getTime() <= clock.now().getTime();
  // A refusal stays what it was; anything else dies with its device.
  const refused = row.status === 'denied' || row.status === 'mismatch';
  return { status: late ? 'expired' : row.used_at || (!row.live && !refused) ? 'gone' : row.status, expected: row.expected, expiresAt: row.expires_at };
}

/**
 * « Mettre fin à toutes les sessions », from the device that just denied a request (or picked
 * a wrong number): every session of the account ends (the person who knew the password may
 * have logged in by other means), and so does every open flow of the account (one past the
 * password must not go on with an email code). Only after such a refusal by this device,
 * within the approval window. System context: the device has no session.
 */
export async function endSessionsAfterDenial(tx: Tx, deps: ApprovalDeps, device: Device, approvalId: string, requestId?: string): Promise<{ ok: true; ended: number } | { ok: false }> {
  const { clock, policy } = deps;
  if (!UUID.test(approvalId)) return { ok: false };
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM device_approvals WHERE id = $1 AND authenticator_id = $2 AND account_id = $3 AND status IN ('denied', 'mismatch') AND decided_at > $4`,
    [approvalId, device.authenticatorId, device.accountId, new Date(clock.now().getTime() - policy.approvalWindow * 1000)],
  );
  if (rows.length !== 1) return { ok: false };
  const ended = await endOtherSessions(tx, clock, device.accountId, null, 'ended-by-citizen', requestId);
  await endAccountFlows(tx, clock, device.accountId);
  return { ok: true, ended };
}
