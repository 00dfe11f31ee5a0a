import { existsSync } from 'node:fs';

/**
 * Outside CI a missing PostgreSQL or Chromium skips the tests that need it, with the
 * reason; with CI=true nothing is skipped: the missing part fails the run.
 */
export const inCI = process.env.CI === 'true';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function requirement(what: 'postgres' | 'chromium'): { skip: string | false } {
  const missing =
    what === 'postgres'
      ? process.env.DATABASE_URL
        ? undefined
        : 'DATABASE_URL is not set: PostgreSQL tests skipped'
      : existsSync(CHROMIUM)
        ? undefined
        : `no Chromium at ${CHROMIUM}: end-to-end tests skipped (apt-get install -y chromium)`;
  if (!missing) return { skip: false };
  if (inCI) throw new Error(`CI=true but ${missing.split(':')[0]}`);
  return { skip: missing };
}
