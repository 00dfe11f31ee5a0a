import type { Tx } from '../db/contexts.ts';

/**
 * Ends everything the provider holds for an account: its provider sessions, grants, codes and
 * tokens (each row names the account), so that no service goes on being fed by a refresh
 * token once the account's sessions were ended for a security reason. Consent records stay.
 * In a citizen context too (their own rows only; migration 032). A token whose save was under
 * way lands afterwards without its grant, and the provider refuses it at its first use.
 */
export async function endAccountFederation(tx: Tx, accountId: string): Promise<number> {
  return (await tx.query(`DELETE FROM oidc_payloads WHERE account_id = $1`, [accountId])).rowCount;
}
