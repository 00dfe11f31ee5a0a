import { audit } from '../../audit/log.ts';
import { endAccountFlows } from '../../auth/flows/flow.ts';
import { endOtherSessions, type Session } from '../../auth/sessions.ts';
import type { Tx } from '../../db/contexts.ts';
import { cancelEvent, lockFile, readEvent, type FileDeps } from '../../file/events.ts';
import { readBankDetails } from '../../file/projections/bank-details.ts';
import { queueMail } from '../../mail/outbox.ts';
import type { Locale } from '../../web/i18n.ts';
import { revokeCancelCode } from './cancel-code.ts';
import { bankNoticeRecipients } from './recipients.ts';

export type CancelOutcome = { ok: true; cancellationId: string; sessionsEnded: number } | { ok: false; reason: 'too-late' | 'nothing' };

/**
 * Cancels the held change `eventId` with a compensating event (DESIGN principle 7): the
 * previous details are in force again and the hold ends. From the account (`session`), in the
 * citizen's transaction; with the mailed code (`session` null), in a system transaction, where
 * it also ends every session and open flow of the account: whoever made the change may be
 * logged in. Refused once the hold is over (`too-late`), or when the change is not the one
 * held (`nothing`: already cancelled, or replaced).
 */
export async function cancelHeldChange(
  tx: Tx,
  deps: FileDeps,
  input: { accountId: string; eventId: string; session: Session | null; locale: Locale; requestId: string },
): Promise<CancelOutcome> {
  const { accountId, eventId, session } = input;
  const { clock, ring } = deps;
  await lockFile(tx, accountId);
  const now = clock.now();
  const view = await readBankDetails(tx, ring, accountId, now);
  if (!view || view.changeEventId !== eventId) return { ok: false, reason: 'nothing' };
  if (!view.pending) return { ok: false, reason: 'too-late' };
  const [change, recipients] = await Promise.all([readEvent(tx, ring, accountId, eventId), bankNoticeRecipients(tx, ring, accountId, now)]);
  if (!change) return { ok: false, reason: 'nothing' };
  const cancellation = await cancelEvent(tx, deps, {
    accountId,
    actor: { kind: 'citizen', id: accountId },
    sessionId: session?.id ?? null,
    level: session?.level ?? null,
    eventId,
  });
  revokeCancelCode(tx, clock, eventId);
  let sessionsEnded = 0;
  if (!session) {
    sessionsEnded = await endOtherSessions(tx, clock, accountId, null, 'bank-change-cancelled', input.requestId);
    await endAccountFlows(tx, clock, accountId);
  }
  const via = session ? 'account' : 'code';
  for (const to of recipients) {
    await queueMail(tx, deps, {
      accountId,
      to,
      template: 'bank-details-change-cancelled',
      locale: input.locale,
      params: { at: cancellation.occurredAt.toISOString(), changedAt: change.occurredAt.toISOString(), cancelledMaskedIban: view.masked, keptMaskedIban: view.previous?.masked ?? null, via },
    });
  }
  await audit(tx, clock, { type: 'bank-details.change-cancelled', accountId, requestId: input.requestId, payload: { eventId, cancellationId: cancellation.id, via, sessionsEnded } });
  return { ok: true, cancellationId: cancellation.id, sessionsEnded };
}
