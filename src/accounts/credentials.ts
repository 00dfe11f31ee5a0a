import type { Clock } from '../clock.ts';
import type { Tx } from '../db/contexts.ts';
import { newId } from '../crypto/random.ts';
import type { AccountStatus } from './accounts.ts';

/**
 * Stores (or replaces) the account's password hash. The hash is computed outside any
 * transaction. A new password lifts an incident's reset (`resetRequired`); the login never
 * rehashes a password under reset (it refuses it first).
 */
export async function setPasswordHash(tx: Tx, clock: Clock, accountId: string, hash: string): Promise<void> {
  const now = clock.now();
  tx.send(
    `INSERT INTO credentials (id, account_id, kind, secret, created_at, updated_at) VALUES ($1, $2, 'password', $3, $4, $4)
     ON CONFLICT (account_id) WHERE kind = 'password' DO UPDATE SET secret = EXCLUDED.secret, updated_at = EXCLUDED.updated_at, reset_required_at = NULL`,
    [newId(), accountId, hash, now],
  );
}

export async function passwordHash(tx: Tx, accountId: string): Promise<string | null> {
  const { rows } = await tx.query<{ secret: string }>(`SELECT secret FROM credentials WHERE account_id = $1 AND kind = 'password'`, [accountId]);
  return rows[0]?.secret ?? null;
}

/** The account a NIR index names, with its password hash if any: one statement for the login's hot path. */
export async function accountWithPasswordByNirIndex(tx: Tx, nirIndex: Buffer): Promise<{ id: string; status: AccountStatus; secret: string | null } | null> {
  const { rows } = await tx.query<{ id: string; status: AccountStatus; secret: string | null }>(
    `SELECT a.id, a.status, c.secret FROM accounts a LEFT JOIN credentials c ON c.account_id = a.id AND c.kind = 'password' WHERE a.nir_index = $1`,
    [nirIndex],
  );
  return rows[0] ?? null;
}

/**
 * Whether an incident reset this account's password (it must be renewed through "Forgotten
 * password"). Locks the row: a reset running at the same moment either commits first (and is
 * seen) or waits for the caller's transaction (and then ends the login flow it created).
 */
export async function passwordResetRequired(tx: Tx, accountId: string): Promise<boolean> {
  const { rows } = await tx.query<{ reset: boolean }>(
    `SELECT reset_required_at IS NOT NULL AS reset FROM credentials WHERE account_id = $1 AND kind = 'password' FOR UPDATE`,
    [accountId],
  );
  return rows[0]?.reset === true;
}
