import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { AppDeps } from '../../src/app-deps.ts';
import { buildApp } from '../../src/app.ts';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import type { Database } from '../../src/db/database.ts';
import { openDatabase } from '../../src/db/open.ts';
import { createLogger, type Logger } from '../../src/logger.ts';

/** The variables loadConfig requires in production, with harmless values. */
export const PRODUCTION_ENV: Readonly<Record<string, string>> = {
  SESAME_ENV: 'production',
  SESAME_KEYS_FILE: '/nonexistent/sesame-test-keys.json',
  SESAME_PUBLIC_URL: 'https://sesame.test',
  SESAME_METRICS_TOKEN: 'metrics-scraper-token-0123456789abcdef',
  SMTP_URL: 'smtp://127.0.0.1:2525',
};

export interface TestAppOptions {
  /** Environment overrides, on top of SESAME_ENV=development (nothing is read from process.env). */
  env?: Record<string, string>;
  /** A database to use (left open on close); default: a fresh migrated in-memory PGlite. */
  db?: Database;
  /** Default: silent. See captureLogs(). */
  logger?: Logger;
  ring?: KeyRing;
  clock?: ManualClock;
  hasher?: AppDeps['hasher'];
}

export interface TestApp {
  /** Not ready yet: tests may add routes before the first inject(). */
  app: FastifyInstance;
  deps: AppDeps;
  clock: ManualClock;
  close(): Promise<void>;
}

export async function testApp(options: TestAppOptions = {}): Promise<TestApp> {
  // Cheap Argon2 unless a test asks otherwise: hashing is tested for itself, not in every login.
  const config = loadConfig({ SESAME_ENV: 'development', SESAME_ARGON2_MEMORY_KIB: '1024', SESAME_ARGON2_TIME_COST: '1', ...options.env });
  const ownsDb = options.db === undefined;
  const db = options.db ?? (await openDatabase({ migrate: true }));
  const clock = options.clock ?? new ManualClock();
  const deps: AppDeps = {
    config,
    db,
    ring: options.ring ?? KeyRing.generate('kek-test'),
    clock,
    logger: options.logger ?? createLogger('silent'),
    hasher: options.hasher,
  };
  const app = await buildApp(deps);
  return {
    app,
    deps,
    clock,
    async close() {
      await app.close();
      // A test may already have closed it (readiness checks).
      if (ownsDb) await db.close().catch(() => undefined);
    },
  };
}

/** A logger whose JSON lines are kept in memory, to assert on what was (not) logged. */
export function captureLogs(level = 'info'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    logger: createLogger(level, stream),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/**
 * A browser's cookies for inject(): keeps what responses set, sends it back.
 * `const res = await app.inject({ url, cookies: jar.cookies() }); jar.store(res);`
 */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(res: LightMyRequestResponse): this {
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      const expired = c.value === '' || (c.maxAge !== undefined && c.maxAge <= 0) || (c.expires !== undefined && c.expires.getTime() <= Date.now());
      if (expired) this.#cookies.delete(c.name);
      else this.#cookies.set(c.name, c.value);
    }
    return this;
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  set(name: string, value: string): this {
    this.#cookies.set(name, value);
    return this;
  }

  cookies(): Record<string, string> {
    return Object.fromEntries(this.#cookies);
  }

  /** The Cookie header value, for requests built by hand. */
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The `_csrf` hidden field's value in a rendered form. */
export function csrfTokenIn(body: string): string {
  const match = /<input type="hidden" name="_csrf" value="([^"]+)">/.exec(body);
  if (!match?.[1]) throw new Error('no _csrf field in the page');
  return match[1];
}

/** A urlencoded form body for inject(). */
export function form(fields: Record<string, string>): { headers: Record<string, string>; payload: string } {
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() };
}
