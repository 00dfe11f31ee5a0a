import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import { loadConfig, type Config } from '../config.ts';
import { loadOrCreateKeyRing, type KeyRing } from '../crypto/keyring.ts';
import { openDatabase, pgliteDir, type OpenDatabase } from '../db/open.ts';
import type { CliIo } from './io.ts';
import { CommandError, print } from './io.ts';
import { pendingMigrations } from '../db/migrate.ts';

/** What most commands need: configuration, keys and the database. */
export interface Runtime {
  config: Config;
  ring: KeyRing;
  db: OpenDatabase;
  clock: Clock;
  close(): Promise<void>;
}

/** `migrate: true`: development applies pending migrations, production refuses to run with any. */
export async function openRuntime(io: CliIo, options: { migrate: boolean }): Promise<Runtime> {
  const config = loadConfig(io.env, io.cwd);
  const clock = systemClock;
  const { ring, created } = await loadOrCreateKeyRing(config.keysFile, config.generateKeys, clock.now());
  if (created) {
    print(io.stderr, `WARNING: generated development keys in ${config.keysFile}. Never use them in production; keep the file private.`);
  }
  // Development migrates on the fly; production migrates only through `sesame migrate`.
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: pgliteDir(config.dataDir), migrate: options.migrate && config.env === 'development' });
  if (options.migrate) {
    const pending = await pendingMigrations(db);
    if (pending.length > 0) {
      await db.close();
      throw new CommandError(`the database has ${pending.length} pending migration(s) (${pending.join(', ')}): run \`sesame migrate\` first`);
    }
  }
  return { config, ring, db, clock, close: () => db.close() };
}
