import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import { loadOrCreateKeyRing, type KeyRing } from './crypto/keyring.ts';
import { pendingMigrations } from './db/migrate.ts';
import { openDatabase, pgliteDir, type OpenDatabase } from './db/open.ts';

export class PendingMigrationsError extends Error {
  override name = 'PendingMigrationsError';
}

/**
 * Keys and database, as the server and every CLI command open them. Development generates
 * missing keys and migrates on the fly; production does neither and refuses to run on a
 * database with pending migrations (`sesame migrate` is a deliberate release step).
 */
export async function openKeysAndDatabase(config: Config, clock: Clock): Promise<{ ring: KeyRing; keysCreated: boolean; db: OpenDatabase }> {
  const { ring, created } = await loadOrCreateKeyRing(config.keysFile, config.generateKeys, clock.now());
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: pgliteDir(config.dataDir), migrate: config.env === 'development' });
  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    await db.close();
    throw new PendingMigrationsError(`the database has ${pending.length} pending migration(s) (${pending.join(', ')}): run \`sesame migrate\` first`);
  }
  return { ring, keysCreated: created, db };
}
