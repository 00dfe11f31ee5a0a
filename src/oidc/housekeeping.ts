import type { Clock } from '../clock.ts';
import { system } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import { rewrapOidcDataKeys } from './payload-keys.ts';

const DAY = 24 * 3600 * 1000;

/**
 * Deletes expired provider rows (reads already ignore them: this only frees the space),
 * moves oidc data keys under the current key-encryption key, and drops data keys that no row
 * uses any more, except the newest of the current KEK (the one being written with). A key is
 * kept two days after its creation, well past the hour a process keeps using a key it chose.
 */
export async function purgeExpiredOidc(db: Database, ring: KeyRing, clock: Clock): Promise<Record<string, number>> {
  const now = clock.now();
  return system(db, 'housekeeping:oidc', async (tx) => {
    const payloads = (await tx.query(`DELETE FROM oidc_payloads WHERE expires_at <= $1`, [now])).rowCount;
    const rewrapped = await rewrapOidcDataKeys(tx, ring);
    const keys = (
      await tx.query(
        `DELETE FROM oidc_data_keys k
          WHERE k.created_at < $1
            AND NOT EXISTS (SELECT 1 FROM oidc_payloads p WHERE p.key_id = k.id)
            AND k.id <> (SELECT id FROM oidc_data_keys WHERE kek_id = $2 ORDER BY created_at DESC, id LIMIT 1)`,
        [new Date(now.getTime() - 2 * DAY), ring.currentKekId],
      )
    ).rowCount;
    return { payloads, rewrapped, keys };
  });
}
