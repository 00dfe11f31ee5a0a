import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { system } from '../db/contexts.ts';
import { unwrapDataKey, wrapDataKey } from '../crypto/envelope.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import { audit } from '../audit/log.ts';
import { rewrapOidcDataKeys } from '../oidc/payload-keys.ts';

/** How many data keys (accounts' and the OpenID provider's) are wrapped by each key-encryption key. */
export async function dataKeysByKek(db: Database): Promise<Map<string, number>> {
  const { rows } = await system(db, 'keys-status', (tx) =>
    tx.query<{ kek_id: string; n: string }>(
      `SELECT kek_id, count(*)::text AS n FROM (SELECT kek_id FROM account_keys UNION ALL SELECT kek_id FROM oidc_data_keys) k GROUP BY kek_id ORDER BY kek_id`,
    ),
  );
  return new Map(rows.map((r) => [r.kek_id, Number(r.n)]));
}

/**
 * Re-wraps every data key not under the current KEK. Only the 32-byte data keys are
 * unwrapped and wrapped again: the fields they protect are never decrypted. Each batch
 * commits on its own, so an interrupted run loses nothing and the next run resumes.
 */
export async function rewrapDataKeys(
  db: Database,
  ring: KeyRing,
  clock: Clock,
  options: { batchSize?: number; afterBatch?: (done: number) => void | Promise<void> } = {},
): Promise<{ rewrapped: number }> {
  const target = ring.currentKekId;
  const kek = ring.kek(target);
  let total = 0;
  for (;;) {
    const n = await system(db, 'keys-rotate', async (tx) => {
      // SKIP LOCKED: two operators running the command at once split the work instead of
      // re-wrapping the same row twice.
      const { rows } = await tx.query<{ account_id: string; kek_id: string; wrapped_key: Uint8Array }>(
        `SELECT account_id, kek_id, wrapped_key FROM account_keys WHERE kek_id <> $1
          ORDER BY account_id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [target, options.batchSize ?? 500],
      );
      for (const r of rows) {
        const dataKey = unwrapDataKey(ring.kek(r.kek_id), r.account_id, Buffer.from(r.wrapped_key));
        await tx.query(`UPDATE account_keys SET kek_id = $2, wrapped_key = $3, rewrapped_at = $4 WHERE account_id = $1`, [
          r.account_id,
          target,
          wrapDataKey(kek, r.account_id, dataKey),
          clock.now(),
        ]);
        dataKey.fill(0);
      }
      if (rows.length > 0) await audit(tx, clock, { type: 'keys.rewrapped', accountId: null, payload: { to: target, count: rows.length } });
      return rows.length;
    });
    if (n === 0) {
      // The provider's few data keys last: after them nothing is left under an older KEK.
      return { rewrapped: total + (await system(db, 'keys-rotate', (tx) => rewrapOidcDataKeys(tx, ring))) };
    }
    total += n;
    await options.afterBatch?.(total);
  }
}
