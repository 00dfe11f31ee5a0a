import { timingSafeEqual } from 'node:crypto';
import { accountCipher } from '../../../accounts/account-keys.ts';
import { findAccountByNir } from '../../../accounts/accounts.ts';
import type { Tx } from '../../../db/contexts.ts';
import type { KeyRing } from '../../../crypto/keyring.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { requestCodeFlow, type RequestResult } from '../code-flow/request-step.ts';

/** Only the birth date is decrypted, and only for an account waiting for activation. */
async function birthDateOf(tx: Tx, ring: KeyRing, accountId: string): Promise<string | null> {
  const { rows } = await tx.query<{ birth_date: Uint8Array }>(`SELECT birth_date FROM accounts WHERE id = $1`, [accountId]);
  const blob = rows[0]?.birth_date;
  const cipher = blob ? await accountCipher(tx, ring, accountId) : null;
  return blob && cipher ? cipher.decrypt('birth_date', Buffer.from(blob)) : null;
}

const sameDate = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * First step of an activation: NIR + birth date. Only a pending account whose birth date
 * matches gets a flow with an account (see requestCodeFlow: the page is the same for all).
 */
export async function requestActivation(
  deps: AuthDeps,
  input: { nir: string; birthDate: string; client: ClientInfo; csrfBinding: string; locale: Locale; requestId: string },
): Promise<RequestResult> {
  const { ring } = deps;
  return requestCodeFlow(deps, 'activation', input, {
    async match(tx) {
      const account = await findAccountByNir(tx, ring, input.nir);
      const pending = account?.status === 'pending_activation' ? account : null;
      const storedDate = pending ? await birthDateOf(tx, ring, pending.id) : null;
      return pending !== null && storedDate !== null && sameDate(storedDate, input.birthDate) ? pending.id : null;
    },
    requested: (flow) => ({ type: 'activation.requested', accountId: flow.accountId, requestId: input.requestId, payload: { flowId: flow.id, matched: flow.accountId !== null } }),
  });
}
