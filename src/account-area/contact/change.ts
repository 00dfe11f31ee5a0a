import { readAccount } from '../../accounts/accounts.ts';
import { audit } from '../../audit/log.ts';
import type { Session } from '../../auth/sessions.ts';
import type { Tx } from '../../db/contexts.ts';
import { appendEvent, lockFile, NoChangeError, StaleFileError, type FileDeps } from '../../file/events.ts';
import { stillShown } from './shown.ts';

/**
 * A change of telephone or postal address, in the citizen's transaction: one file event
 * (who, which session, which level; before and after encrypted) and its audit line (ids only).
 * Refused as `stale` when the file changed since the form was drawn (its `shown` mark), and
 * as `unchanged` when the value typed is the one on file.
 */
export type ContactPart = 'contact.phone-changed' | 'contact.address-changed';

export type ContactChangeOutcome = { ok: true; eventId: string } | { ok: false; reason: 'stale' | 'unchanged' };

export async function changeContact(
  tx: Tx,
  deps: FileDeps,
  session: Session,
  input: { part: ContactPart; after: string | null; shown: string; requestId: string },
): Promise<ContactChangeOutcome> {
  const { accountId } = session;
  // The same lock appendEvent takes: the value compared below is the one the event replaces.
  await lockFile(tx, accountId);
  const account = await readAccount(tx, deps.ring, accountId);
  if (!account) throw new Error('the session’s account is not readable in its own context');
  const current = input.part === 'contact.phone-changed' ? account.contact.phone : account.contact.postalAddress;
  if (!stillShown(deps.ring, accountId, input.part, current, input.shown)) return { ok: false, reason: 'stale' };
  let event;
  try {
    event = await appendEvent(tx, deps, {
      type: input.part,
      accountId,
      actor: { kind: 'citizen', id: accountId },
      sessionId: session.id,
      level: session.level,
      before: current,
      after: input.after,
    });
  } catch (err) {
    if (err instanceof NoChangeError) return { ok: false, reason: 'unchanged' };
    if (err instanceof StaleFileError) return { ok: false, reason: 'stale' };
    throw err;
  }
  if (input.part === 'contact.phone-changed') {
    await audit(tx, deps.clock, { type: 'contact.phone-changed', accountId, requestId: input.requestId, payload: { eventId: event.id, sessionId: session.id, removed: input.after === null } });
  } else {
    await audit(tx, deps.clock, { type: 'contact.address-changed', accountId, requestId: input.requestId, payload: { eventId: event.id, sessionId: session.id } });
  }
  return { ok: true, eventId: event.id };
}
