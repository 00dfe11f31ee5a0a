import path from 'node:path';
import { buildApp } from './app.ts';
import { systemClock } from './clock.ts';
import { loadConfig } from './config.ts';
import { watchKeyFile } from './crypto/keyring.ts';
import { openKeysAndDatabase } from './bootstrap.ts';
import { createLogger } from './logger.ts';
import { createMailWorker } from './mail/worker.ts';
import { transportFor } from './mail/transport.ts';
import { siteFromConfig } from './mail/site.ts';
import { demoInstructions, ensureDemoCitizen } from './accounts/demo.ts';
import { startHousekeeping } from './auth/housekeeping.ts';
import { purgeExpiredOidc } from './oidc/housekeeping.ts';
import type Provider from 'oidc-provider';
import { replaceSigningKeys } from './oidc/key-reload.ts';
import { loadSigningKeys, watchSigningKeys } from './oidc/signing-keys.ts';

export interface ServerIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where the one-time human messages go (demo credentials, key warnings). */
  stdout: NodeJS.WritableStream;
}

/**
 * Assembles the running server: keys, database (migrated in development), the web app,
 * the mail worker and the key-file watcher. Production never generates keys, never
 * migrates implicitly and never creates demo data.
 */
export async function startServer(io: ServerIo): Promise<{ url: string; address: string; close(): Promise<void> }> {
  const config = loadConfig(io.env, io.cwd);
  const logger = createLogger(config.logLevel);
  const clock = systemClock;
  const development = config.env === 'development';

  const { ring, keysCreated, db } = await openKeysAndDatabase(config, clock);
  if (keysCreated) logger.warn({ keysFile: config.keysFile }, 'generated development keys: never use them in production');
  const stopWatching = watchKeyFile(config.keysFile, ring, (err) => logger.error({ err: err.message }, 'key file reload failed; keeping the keys in memory'));

  const mailDir = path.join(config.dataDir, 'mail');
  // Only on the embedded database: a development-mode start against a real server (a
  // forgotten SESAME_ENV) must not plant an account with a published password there.
  if (development && !config.databaseUrl) {
    const demo = await ensureDemoCitizen(db, { ring, clock });
    if (demo.created) logger.info('created the development demo citizen');
    io.stdout.write(`\n${demoInstructions(path.relative(io.cwd, mailDir) || mailDir)}\n\n`);
  }

  const transport = transportFor(config);
  const worker = createMailWorker({
    db,
    ring,
    clock,
    transport,
    from: config.mailFrom,
    site: siteFromConfig(config),
    logger: logger.child({ component: 'mail-worker' }),
  });
  const stopHousekeeping = startHousekeeping(db, clock, config.auth, logger.child({ component: 'housekeeping' }));
  // The OpenID provider's rows: reads already ignore expired ones, this frees the space and
  // moves its data keys under the current KEK.
  const oidcHousekeeping = setInterval(() => {
    purgeExpiredOidc(db, ring, clock).catch((err: unknown) => logger.error({ err, component: 'housekeeping' }, 'oidc housekeeping failed'));
  }, 10 * 60 * 1000);
  oidcHousekeeping.unref();
  let stopKeyWatch = (): void => {};
  const close = async (): Promise<void> => {
    stopHousekeeping();
    clearInterval(oidcHousekeeping);
    stopKeyWatch();
    stopWatching();
    await worker.stop();
    await transport.close?.();
    await db.close();
  };
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let address: string;
  try {
    worker.start();
    // The provider signs with the key store's keys; the watcher re-reads them every minute and
    // at each timed change (a rotated key published, due to sign, retired, removed), so
    // `sesame keys rotate-signing` needs no restart (its delay covers the minute).
    const signing = await loadSigningKeys(db, ring, clock);
    let provider: Provider | undefined;
    app = await buildApp({ config, db, ring, clock, logger, oidcSigningKeys: signing.keys, onOidcProvider: (p) => (provider = p) });
    const watcher = watchSigningKeys({
      db,
      ring,
      clock,
      current: signing,
      intervalMs: config.oidcSigningKeys.reloadMs,
      onChange: (keys) => {
        if (provider) replaceSigningKeys(provider, keys.keys);
        logger.info({ event: 'oidc-signing-keys-reloaded', kids: keys.keys.map((k) => k.kid) }, 'OIDC signing keys reloaded');
      },
      onError: (err) => logger.error({ err, component: 'oidc-keys' }, 'reloading the OIDC signing keys failed'),
    });
    stopKeyWatch = watcher.stop;
    address = await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    // A failed start (port taken…) must end the process, not leave timers and the PGlite lock behind.
    await app?.close();
    await close();
    throw err;
  }
  const running = app;

  return {
    /** What citizens type; `address` is where this process actually listens. */
    url: config.publicUrl.toString(),
    address,
    async close() {
      await running.close();
      await close();
    },
  };
}
