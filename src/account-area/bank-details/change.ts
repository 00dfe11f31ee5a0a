import { audit } from '../../audit/log.ts';
import type { Session } from '../../auth/sessions.ts';
import type { Tx } from '../../db/contexts.ts';
import type { BankDetails } from '../../file/catalogue.ts';
import { appendEvent, lockFile, NoChangeError, StaleFileError, type FileDeps } from '../../file/events.ts';
import { maskIban, readBankDetails, type BankDetailsView } from '../../file/projections/bank-details.ts';
import { queueMail } from '../../mail/outbox.ts';
import type { ClientInfo } from '../../web/client.ts';
import type { Locale } from '../../web/i18n.ts';
import { stillShown } from '../contact/shown.ts';
import { issueCancelCode } from './cancel-code.ts';
import { bankNoticeRecipients } from './recipients.ts';

export const BANK_PART = 'bank-details.changed';

/** What the change form showed (for its `shown` mark): the details in force, or none. */
export const shownDetails = (view: BankDetailsView | null): BankDetails | null => (view ? { iban: view.iban, holder: view.holder } : null);

export type BankChangeOutcome =
  | { ok: true; eventId: string; effectiveAt: Date }
  | { ok: false; reason: 'pending' | 'stale' | 'unchanged' | 'no-email' };

/**
 * A change of bank details, in the citizen's transaction (the caller has checked the
 * step-up): the file event, held until now + the hold (payments keep going to the previous
 * IBAN meanwhile), its cancellation code, the notice with that code to the account's address
 * (and to the addresses it replaced lately), and the audit line. One change at a time: while
 * one is held, it is cancelled first.
 */
export async function changeBankDetails(
  tx: Tx,
  deps: FileDeps,
  session: Session,
  input: { details: BankDetails; shown: string; holdSeconds: number; locale: Locale; client: ClientInfo; requestId: string },
): Promise<BankChangeOutcome> {
  const { accountId } = session;
  const { clock, ring } = deps;
  await lockFile(tx, accountId);
  const now = clock.now();
  const [current, recipients] = await Promise.all([readBankDetails(tx, ring, accountId, now), bankNoticeRecipients(tx, ring, accountId, now)]);
  if (current?.pending) return { ok: false, reason: 'pending' };
  if (!stillShown(ring, accountId, BANK_PART, shownDetails(current), input.shown)) return { ok: false, reason: 'stale' };
  // The notice is the point of the hold: no address to send it to, no change.
  if (recipients.length === 0) return { ok: false, reason: 'no-email' };
  const effectiveAt = new Date(now.getTime() + input.holdSeconds * 1000);
  let event;
  try {
    event = await appendEvent(tx, deps, {
      type: BANK_PART,
      accountId,
      actor: { kind: 'citizen', id: accountId },
      sessionId: session.id,
      level: session.level,
      before: shownDetails(current),
      after: input.details,
      effectiveAt,
    });
  } catch (err) {
    if (err instanceof NoChangeError) return { ok: false, reason: 'unchanged' };
    if (err instanceof StaleFileError) return { ok: false, reason: 'stale' };
    throw err;
  }
  const cancelCode = issueCancelCode(tx, deps, { accountId, eventId: event.id, expiresAt: effectiveAt });
  for (const to of recipients) {
    await queueMail(tx, deps, {
      accountId,
      to,
      template: 'bank-details-changed',
      locale: input.locale,
      params: {
        at: event.occurredAt.toISOString(),
        maskedIban: maskIban(input.details.iban),
        previousMaskedIban: current?.masked ?? null,
        effectiveAt: effectiveAt.toISOString(),
        cancelCode,
        browser: input.client.browser,
        os: input.client.os,
      },
    });
  }
  await audit(tx, clock, { type: 'bank-details.changed', accountId, requestId: input.requestId, payload: { eventId: event.id, sessionId: session.id, effectiveAt: effectiveAt.toISOString() } });
  return { ok: true, eventId: event.id, effectiveAt };
}
