import { timingSafeEqual } from 'node:crypto';
import { findAccountByNir, readField } from '../../../accounts/accounts.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { requestCodeFlow, type RequestResult } from '../code-flow/request-step.ts';

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
      // Only the birth date is decrypted, and only for an account waiting for activation.
      const storedDate = pending ? await readField(tx, ring, pending.id, 'birth_date') : null;
      return pending !== null && storedDate !== null && sameDate(storedDate, input.birthDate) ? pending.id : null;
    },
    requested: (flow) => ({ type: 'activation.requested', accountId: flow.accountId, requestId: input.requestId, payload: { flowId: flow.id, matched: flow.accountId !== null } }),
  });
}
