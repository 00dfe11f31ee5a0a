import { findAccountByNir } from '../../../accounts/accounts.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { requestCodeFlow, type RequestResult } from '../code-flow/request-step.ts';

/**
 * First step of "forgotten password": the NIR. Only an active account gets a flow with an
 * account (see requestCodeFlow: the page is the same for all). An account waiting for
 * activation is treated as no match: it has no password to reset, and saying so would tell
 * that it exists.
 */
export async function requestRecovery(deps: AuthDeps, input: { nir: string; client: ClientInfo; csrfBinding: string; locale: Locale; requestId: string }): Promise<RequestResult> {
  return requestCodeFlow(deps, 'recovery', input, {
    async match(tx) {
      const account = await findAccountByNir(tx, deps.ring, input.nir);
      return account?.status === 'active' ? account.id : null;
    },
    requested: (flow) => ({ type: 'recovery.requested', accountId: flow.accountId, requestId: input.requestId, payload: { flowId: flow.id } }),
  });
}
