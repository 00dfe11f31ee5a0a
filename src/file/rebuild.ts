import type { Database } from '../db/database.ts';
import { system, type Tx } from '../db/contexts.ts';
import { accountCipher } from '../accounts/account-keys.ts';
import { ALL_PROJECTIONS, lockFile, readEvents, type FileDeps } from './events.ts';

/**
 * Rebuilds the projections of the file from its events (`sesame file rebuild`). Each
 * account is rebuilt under the same lock appendEvent takes, so an append cannot slip in
 * between reading the events and writing the projection.
 */

export interface RebuildReport {
  /** Accounts whose projections were recomputed. */
  accounts: number;
  /** Projection parts that differed from their events and were corrected. */
  corrected: number;
  /** Accounts whose data key was shredded: nothing left to rebuild. */
  shredded: number;
}

/** Rebuilds every projection of one account in the caller's transaction. */
export async function rebuildInTransaction(tx: Tx, deps: FileDeps, accountId: string): Promise<{ corrected: number; shredded: boolean }> {
  if (!(await accountCipher(tx, deps.ring, accountId))) return { corrected: 0, shredded: true };
  await lockFile(tx, accountId);
  const events = await readEvents(tx, deps.ring, accountId);
  let corrected = 0;
  for (const projection of ALL_PROJECTIONS) corrected += await projection.rebuild(tx, deps, accountId, events);
  return { corrected, shredded: false };
}

export class UnknownAccountError extends Error {
  override name = 'UnknownAccountError';
  constructor() {
    super('no account with this id');
  }
}

/** One account, in one transaction. */
export async function rebuildAccount(db: Database, deps: FileDeps, accountId: string): Promise<RebuildReport> {
  return system(db, 'file-rebuild', async (tx) => {
    const { rows } = await tx.query(`SELECT 1 FROM accounts WHERE id = $1`, [accountId]);
    if (rows.length === 0) throw new UnknownAccountError();
    const r = await rebuildInTransaction(tx, deps, accountId);
    return { accounts: r.shredded ? 0 : 1, corrected: r.corrected, shredded: r.shredded ? 1 : 0 };
  });
}

/**
 * Every account, in batches of `batchSize` accounts, each batch one transaction (an
 * interrupted run keeps what it did; running it again is harmless: a rebuild is idempotent).
 */
export async function rebuildAll(
  db: Database,
  deps: FileDeps,
  options: { batchSize?: number; afterBatch?: (report: RebuildReport) => void | Promise<void> } = {},
): Promise<RebuildReport> {
  const batchSize = options.batchSize ?? 200;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const total: RebuildReport = { accounts: 0, corrected: 0, shredded: 0 };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const done = await system(db, 'file-rebuild', async (tx) => {
      const { rows } = await tx.query<{ id: string }>(`SELECT id FROM accounts WHERE id > $1 ORDER BY id LIMIT $2`, [after, batchSize]);
      for (const { id } of rows) {
        const r = await rebuildInTransaction(tx, deps, id);
        if (r.shredded) total.shredded++;
        else total.accounts++;
        total.corrected += r.corrected;
      }
      return rows.at(-1)?.id ?? null;
    });
    if (done === null) return total;
    after = done;
    await options.afterBatch?.({ ...total });
  }
}
