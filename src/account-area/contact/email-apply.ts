import { audit } from '../../audit/log.ts';
import { maskEmail } from '../../auth/mask-email.ts';
import type { Session } from '../../auth/sessions.ts';
import type { Tx } from '../../db/contexts.ts';
import { appendEvent, NoChangeError, StaleFileError, type FileDeps } from '../../file/events.ts';
import { queueMail } from '../../mail/outbox.ts';
import type { ClientInfo } from '../../web/client.ts';
import type { Locale } from '../../web/i18n.ts';
import type { EmailAddresses } from './email-change.ts';

/**
 * The change of email address, once its code is verified, in the citizen's transaction: the
 * file event (the address on file must still be the one the flow started from, or it is
 * stale), the notice to the previous address (written in the same transaction: no change
 * without its notice), and the audit line.
 */
export async function applyEmailChange(
  tx: Tx,
  deps: FileDeps,
  session: Session,
  input: { flowId: string; addresses: EmailAddresses; locale: Locale; client: ClientInfo; requestId: string },
): Promise<{ ok: true; eventId: string } | { ok: false; reason: 'stale' | 'unchanged' }> {
  const { accountId } = session;
  const { from, to } = input.addresses;
  let event;
  try {
    event = await appendEvent(tx, deps, {
      type: 'contact.email-changed',
      accountId,
      actor: { kind: 'citizen', id: accountId },
      sessionId: session.id,
      level: session.level,
      before: from,
      after: to,
    });
  } catch (err) {
    if (err instanceof StaleFileError) return { ok: false, reason: 'stale' };
    if (err instanceof NoChangeError) return { ok: false, reason: 'unchanged' };
    throw err;
  }
  if (from !== null) {
    await queueMail(tx, deps, {
      accountId,
      to: from,
      template: 'contact-email-changed',
      locale: input.locale,
      params: { at: event.occurredAt.toISOString(), newAddress: maskEmail(to), browser: input.client.browser, os: input.client.os },
    });
  }
  await audit(tx, deps.clock, { type: 'contact.email-changed', accountId, requestId: input.requestId, payload: { eventId: event.id, flowId: input.flowId, sessionId: session.id } });
  return { ok: true, eventId: event.id };
}
