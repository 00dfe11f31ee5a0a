import type { Clock } from '../clock.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import type { Tx } from '../db/contexts.ts';
import { queueMail } from './outbox.ts';
import type { PasswordChangedVia } from './templates/password-changed.ts';
import type { MailLocale } from './templates/types.ts';

/**
 * Tells the owner, at the address on file, that the password was set, reset or changed and
 * from which device: if it was not them, they learn it now.
 */
export async function queuePasswordChangedMail(
  tx: Tx,
  deps: { ring: KeyRing; clock: Clock },
  o: { accountId: string; locale: MailLocale; at: Date; client: { browser: string | null; os: string | null }; via: PasswordChangedVia },
): Promise<void> {
  await queueMail(tx, deps, {
    accountId: o.accountId,
    template: 'password-changed',
    locale: o.locale,
    params: { at: o.at.toISOString(), browser: o.client.browser, os: o.client.os, via: o.via },
  });
}
