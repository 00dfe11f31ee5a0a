import { loadConfig } from '../../config.ts';
import { openDatabase, pgliteDir } from '../../db/open.ts';
import { migrate } from '../../db/migrate.ts';
import { flags } from '../args.ts';
import { EXIT, print } from '../io.ts';
import type { Command } from '../command.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply pending database migrations (idempotent)',
  usage: 'sesame migrate',
  async run(args, io) {
    flags(args, {});
    const config = loadConfig(io.env, io.cwd, 'command');
    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: pgliteDir(config.dataDir) });
    try {
      const { applied } = await migrate(db);
      print(io.stdout, applied.length === 0 ? 'database is up to date' : `applied: ${applied.join(', ')}`);
      return EXIT.ok;
    } finally {
      await db.close();
    }
  },
};
