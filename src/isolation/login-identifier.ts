import type { Tx } from '../db/contexts.ts';

/**
 * The login identifier the tripwire compares against: the NIR blind index the citizen typed
 * at the password step, kept on the login flow until its session starts.
 */
export function recordLoginIdentifier(tx: Tx, flowId: string, nirIndex: Uint8Array): void {
  tx.send(`UPDATE auth_flows SET login_nir_index = $2 WHERE id = $1`, [flowId, nirIndex]);
}

/**
 * What the flow's session records: the index typed at login, or (a login without a typed NIR,
 * such as a passkey alone) the account's own index at this moment.
 */
export async function loginIdentifierOf(tx: Tx, flowId: string, accountId: string): Promise<Uint8Array | null> {
  const { rows } = await tx.query<{ login_nir_index: Uint8Array | null }>(
    `SELECT coalesce((SELECT f.login_nir_index FROM auth_flows f WHERE f.id = $1), a.nir_index) AS login_nir_index FROM accounts a WHERE a.id = $2`,
    [flowId, accountId],
  );
  return rows[0]?.login_nir_index ?? null;
}
