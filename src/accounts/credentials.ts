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
 * The account's password hash and whether an incident reset it (it must then be renewed
 * through "Forgotten password"), the row locked until the caller's transaction ends. A password
 * checked outside any transaction (Argon2id takes milliseconds) is still the account's only if
 * this hash is the one it was checked against: a change committed meanwhile is seen here, and
 * one that commits after waits for the lock, so its next statements see (and end) what the
 * caller created.
 */
export async function lockPassword(tx: Tx, accountId: string): Promise<{ secret: string; resetRequired: boolean } | null> {
  const { rows } = await tx.query<{ secret: string; reset: boolean }>(
    `SELECT secret, reset_required_at IS NOT NULL AS reset FROM credentials WHERE account_id = $1 AND kind = 'password' FOR UPDATE`,
    [accountId],
  );
  const row = rows[0];
  return row ? { secret: row.secret, resetRequired: row.reset } : null;
}
