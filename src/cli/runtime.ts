import { userInfo } from 'node:os';
import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import { loadConfig, type Config } from '../config.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import type { OpenDatabase } from '../db/open.ts';
import { openKeysAndDatabase, PendingMigrationsError } from '../bootstrap.ts';
import type { CliIo } from './io.ts';
import { CommandError, print } from './io.ts';

/** What most commands need: configuration, keys and the database. */
export interface Runtime {
  config: Config;
  ring: KeyRing;
  db: OpenDatabase;
  clock: Clock;
  /** Who runs the command, for audit events (`operator:<name>`). */
  operator: string;
  close(): Promise<void>;
}

async function openRuntime(io: CliIo): Promise<Runtime> {
  const config = loadConfig(io.env, io.cwd, 'command');
  const clock = systemClock;
  const { ring, keysCreated, db } = await openKeysAndDatabase(config, clock).catch((err: unknown) => {
    throw err instanceof PendingMigrationsError ? new CommandError(err.message) : err;
  });
  if (keysCreated) print(io.stderr, `WARNING: generated development keys in ${config.keysFile}. Never use them in production; keep the file private.`);
  const operator = io.env.SUDO_USER ?? io.env.USER ?? userInfo().username;
  return { config, ring, db, clock, operator, close: () => db.close() };
}

/** Opens the runtime for one command and closes it whatever happens. */
export async function withRuntime<T>(io: CliIo, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await openRuntime(io);
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}
