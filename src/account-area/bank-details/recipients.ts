import { readEmail } from '../../accounts/accounts.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import { normaliseEmail } from '../../crypto/blind-index.ts';
import type { Tx } from '../../db/contexts.ts';
import { readEvents } from '../../file/events.ts';

/** How far back a replaced email address still hears of bank-details changes. */
export const REPLACED_ADDRESS_DAYS = 30;

/**
 * Who hears of a change of bank details: the address on file and, for a while, the addresses
 * it replaced. Whoever takes over an account moves its mail to their own address first; the
 * owner's previous address must still hear of the change and get the code that cancels it.
 */
export async function bankNoticeRecipients(tx: Tx, ring: KeyRing, accountId: string, now: Date): Promise<string[]> {
  const since = now.getTime() - REPLACED_ADDRESS_DAYS * 24 * 3600 * 1000;
  const [current, events] = await Promise.all([readEmail(tx, ring, accountId), readEvents(tx, ring, accountId)]);
  const addresses = new Map<string, string>();
  if (current) addresses.set(normaliseEmail(current), current);
  for (const e of events) {
    if (e.type !== 'contact.email-changed' || e.occurredAt.getTime() < since) continue;
    const before = e.data.before;
    if (typeof before === 'string' && !addresses.has(normaliseEmail(before))) addresses.set(normaliseEmail(before), before);
  }
  return [...addresses.values()];
}
