import { after, before, describe } from 'node:test';
import { testApp, type TestApp, type TestAppOptions } from './app.ts';
import { backends, type Backend, type TestDatabase } from './databases.ts';
import { freePort } from './free-port.ts';

/**
 * An app on a fresh database for the tests of one suite. `t` and `tdb` are views that read
 * the suite's current app and database when used, so tests and helpers can hold them from
 * the moment the suite is defined, before anything is open.
 */
export interface AppSuite {
  t: TestApp;
  tdb: TestDatabase;
  backend: Backend;
}

type AppOptions = () => Omit<TestAppOptions, 'db'>;
type SuiteBody = (suite: AppSuite) => void;

/**
 * One describe() per backend (`${title} on pglite`, `… on postgres`, skipped where that
 * backend is not available), each with its own database and app: opened before the suite's
 * tests and its own before() hooks, closed after its own after() hooks. `options`, for
 * testApp(), is called in before(), so it may make what the app needs per suite.
 */
export function onEachBackend(title: string, body: SuiteBody): void;
export function onEachBackend(title: string, options: AppOptions, body: SuiteBody): void;
export function onEachBackend(title: string, ...args: [SuiteBody] | [AppOptions, SuiteBody]): void {
  const [options, body]: [AppOptions, SuiteBody] = args.length === 1 ? [() => ({}), args[0]] : args;
  for (const backend of backends()) {
    describe(`${title} on ${backend.name}`, { skip: backend.skip }, () => {
      const app = appOn(`${title} on ${backend.name}`, () => backend.open(), options);
      before(app.open);
      body({ ...app.views, backend });
      // Registered after the body's hooks, so it runs after them: they may still use the app.
      after(app.close);
    });
  }
}

/** A suite whose app listens on a free local port (for real HTTP clients: openid-client, fetch). */
export interface ListeningSuite extends AppSuite {
  /** `http://127.0.0.1:<port>`, the issuer and public URL; read it in tests and hooks, not at definition. */
  readonly base: string;
}

/**
 * onEachBackend, the app listening: its public URL is where it listens, and its clock starts
 * at the real time (the OpenID provider reads Date: our sessions' auth_time must agree).
 */
export function onEachBackendListening(title: string, body: (suite: ListeningSuite) => void): void {
  for (const backend of backends()) {
    describe(`${title} on ${backend.name}`, { skip: backend.skip }, () => {
      let port = 0;
      const app = appOn(`${title} on ${backend.name}`, () => backend.open(), () => ({ env: { SESAME_PUBLIC_URL: `http://127.0.0.1:${port}`, PORT: String(port) } }));
      before(async () => {
        port = await freePort();
        await app.open();
        app.views.t.clock.set(new Date());
        await app.views.t.app.listen({ port, host: '127.0.0.1' });
      });
      body({
        ...app.views,
        backend,
        get base() {
          return `http://127.0.0.1:${port}`;
        },
      });
      after(app.close);
    });
  }
}

/** For the suite (or file) it is called in: an app on a fresh in-memory PGlite, opened before its tests. */
export function useApp(options: AppOptions = () => ({})): Pick<AppSuite, 't' | 'tdb'> {
  const pglite = backends().find((b) => b.name === 'pglite');
  if (!pglite) throw new Error('no PGlite backend');
  const app = appOn('this suite', () => pglite.open(), options);
  before(app.open);
  after(app.close);
  return app.views;
}

/** The views, and the hooks that open and close what they show. */
function appOn(label: string, openDb: () => Promise<TestDatabase>, options: AppOptions): { views: Pick<AppSuite, 't' | 'tdb'>; open(): Promise<void>; close(): Promise<void> } {
  let open: { t: TestApp; tdb: TestDatabase } | undefined;
  const current = (): { t: TestApp; tdb: TestDatabase } => {
    if (!open) throw new Error(`${label}: the app is used outside its tests`);
    return open;
  };
  const t: TestApp = {
    get app() {
      return current().t.app;
    },
    get deps() {
      return current().t.deps;
    },
    get clock() {
      return current().t.clock;
    },
    close: () => current().t.close(),
  };
  const tdb: TestDatabase = {
    get db() {
      return current().tdb.db;
    },
    get url() {
      return current().tdb.url;
    },
    superuser: (sql, params) => current().tdb.superuser(sql, params),
    close: () => current().tdb.close(),
  };
  return {
    views: { t, tdb },
    async open() {
      const db = await openDb();
      open = { tdb: db, t: await testApp({ ...options(), db: db.db }) };
    },
    async close() {
      await open?.t.close();
      await open?.tdb.close();
      open = undefined;
    },
  };
}
