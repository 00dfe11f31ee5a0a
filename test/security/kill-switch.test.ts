import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeAccess, openAccess, readAccess } from '../../src/incident/access.ts';
import { openDatabase, pgliteDir } from '../../src/db/open.ts';
import { dsfrUrl } from '../../src/web/static.ts';
import { sesame } from '../support/cli.ts';
import { backends, createPostgresDatabase } from '../support/databases.ts';
import { Browser, citizenWithPassword, lastCode, logIn, submitPassword } from '../support/login.ts';
import { onEachBackend } from '../support/suites.ts';
import { captureLogs } from '../support/app.ts';

/**
 * The kill switch: while citizen access is closed, every citizen page answers the maintenance
 * page and no login or flow step goes through, on every process (shared flag, short cache);
 * operators open and close it with `sesame access`, and every change is audited.
 */

const CITIZEN_PAGES = [
  '/',
  '/login',
  '/activate',
  '/recover',
  '/account',
  '/account/security',
  '/step-up/00000000-0000-4000-8000-000000000000',
  '/confirm/00000000-0000-4000-8000-000000000000',
  '/login/00000000-0000-4000-8000-000000000000',
  '/a-page-added-later',
];
const OPERATOR = { kind: 'operator', name: 'oncall' } as const;

let logs = captureLogs('info');
/** Whether a request since log line `since` was refused by a step reading the flag (not by the door's hook). */
const refusedByStep = (since: number): boolean =>
  logs
    .lines()
    .slice(since)
    .some((l) => l.msg === 'request failed' && (l.err as { type?: string } | undefined)?.type === 'AccessClosedError');

onEachBackend('kill switch', () => ((logs = captureLogs('info')), { logger: logs.logger, env: { SESAME_ACCESS_CACHE_MS: '1000', SESAME_MAINTENANCE_RETRY_AFTER: '120' } }), (s) => {
  const closeElsewhere = (): Promise<unknown> =>
    // As another process (the CLI, the tripwire of another server) would: not through this process's cache.
    s.tdb.superuser(`UPDATE citizen_access SET open = false, changed_at = now(), changed_by = 'operator:elsewhere', reason = 'test'`);

  test('closed: every citizen page answers the maintenance page, in French and English, 503 with Retry-After', async () => {
    await closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: 'INC-42' });
    try {
      for (const url of CITIZEN_PAGES) {
        for (const method of ['GET', 'POST'] as const) {
          const res = await s.t.app.inject({ method, url, headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}, payload: method === 'POST' ? 'a=b' : undefined });
          assert.equal(res.statusCode, 503, `${method} ${url}`);
          assert.equal(res.headers['retry-after'], '120', url);
          assert.equal(res.headers['cache-control'], 'no-store, private', url);
          assert.match(res.body, /<h1>Service momentanément indisponible<\/h1>/, url);
          assert.match(res.body, /lang="en"[^>]*>\s*<h2[^>]*>Service temporarily unavailable/, url);
          assert.doesNotMatch(res.body, /INC-42/, 'the reason is for operators only');
        }
      }
      const en = await s.t.app.inject({ url: '/account?lang=en' });
      assert.match(en.body, /<h1>Service temporarily unavailable<\/h1>/);
      const json = await s.t.app.inject({ url: '/account', headers: { accept: 'application/json' } });
      assert.deepEqual([json.statusCode, JSON.parse(json.body)], [503, { error: 'maintenance', retryAfter: 120 }]);
    } finally {
      await openAccess(s.t.deps.db, s.t.clock, { by: OPERATOR });
    }
  });

  test('closed: probes, metrics and static files keep working', async () => {
    await closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: 'INC-43' });
    try {
      for (const url of ['/healthz', '/readyz', '/metrics', dsfrUrl('dsfr.min.css'), '/assets/sesame.css']) {
        assert.equal((await s.t.app.inject({ url })).statusCode, 200, url);
      }
    } finally {
      await openAccess(s.t.deps.db, s.t.clock, { by: OPERATOR });
    }
  });

  test('a close by this process applies at once; so does the reopening', async () => {
    assert.equal((await s.t.app.inject({ url: '/' })).statusCode, 200);
    await closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: 'INC-44' });
    assert.equal((await s.t.app.inject({ url: '/' })).statusCode, 503);
    await openAccess(s.t.deps.db, s.t.clock, { by: OPERATOR });
    assert.equal((await s.t.app.inject({ url: '/' })).statusCode, 200);
  });

  test('a close by another process: the password step refuses at once (no cache), every page within a second', async () => {
    const c = await citizenWithPassword(s.t);
    const b = new Browser(s.t);
    await b.get('/login'); // this process now holds "open" for up to a second
    const cached = performance.now();
    const since = logs.lines().length;
    await closeElsewhere();
    try {
      const res = await b.post('/login', { method: 'password', nir: c.nir, password: c.password });
      assert.equal(res.statusCode, 503, 'the password step reads the flag itself');
      assert.match(res.body, /Service momentanément indisponible/);
      // Within the cache's second, the door let it in: the step itself refused.
      if (performance.now() - cached < 900) assert.ok(refusedByStep(since), 'refused by the password step');
      const flows = await s.tdb.superuser(`SELECT count(*)::int AS n FROM auth_flows WHERE account_id = $1`, [c.accountId]);
      assert.equal((flows.rows[0] as { n: number }).n, 0, 'no flow was started');
      await sleep(1100);
      assert.equal((await b.get('/')).statusCode, 503);
    } finally {
      await openAccess(s.t.deps.db, s.t.clock, { by: OPERATOR });
    }
  });

  test('a login at its code step when access closes does not finish: no session', async () => {
    const c = await citizenWithPassword(s.t);
    const b = new Browser(s.t);
    s.t.clock.advance(1000);
    const flow = await submitPassword(b, c);
    assert.equal((await b.post(`${flow}/send`, { method: 'email-code' })).statusCode, 303);
    await b.get(flow);
    await closeElsewhere();
    try {
      const code = await lastCode(s.t, c.accountId);
      const cached = performance.now();
      const since = logs.lines().length;
      const res = await b.post(flow, { method: 'email-code', code });
      assert.equal(res.statusCode, 503);
      if (performance.now() - cached < 900) assert.ok(refusedByStep(since), 'refused by the step that finishes the flow');
      assert.match(res.body, /Service momentanément indisponible/);
      assert.equal(res.headers['retry-after'], '120');
      const sessions = await s.tdb.superuser(`SELECT count(*)::int AS n FROM sessions WHERE account_id = $1`, [c.accountId]);
      assert.equal((sessions.rows[0] as { n: number }).n, 0, 'no session was started');
    } finally {
      await openAccess(s.t.deps.db, s.t.clock, { by: OPERATOR });
    }
  });

  test('closed: a citizen can still log out', async () => {
    const c = await citizenWithPassword(s.t);
    const b = new Browser(s.t);
    await logIn(b, c);
    const page = await b.get('/account');
    await closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: 'INC-45' });
    try {
      const res = await b.post('/logout', {}, page.body);
      assert.equal(res.statusCode, 303);
      const live = await s.tdb.superuser(`SELECT count(*)::int AS n FROM sessions WHERE account_id = $1 AND ended_at IS NULL`, [c.accountId]);
      assert.equal((live.rows[0] as { n: number }).n, 0);
    } finally {
      await openAccess(s.t.deps.db, s.t.clock, { by: OPERATOR });
    }
  });

  test('every change is in the history and the audit log; closing twice changes nothing', async () => {
    const first = await closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: 'INC-46' });
    const second = await closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: 'again' });
    assert.deepEqual([first.changed, second.changed, second.state.reason], [true, false, 'INC-46']);
    await openAccess(s.t.deps.db, s.t.clock, { by: OPERATOR });
    const history = (await s.tdb.superuser(`SELECT state, changed_by, reason FROM citizen_access_history ORDER BY seq DESC LIMIT 2`)).rows;
    assert.deepEqual(history, [
      { state: 'open', changed_by: 'operator:oncall', reason: null },
      { state: 'closed', changed_by: 'operator:oncall', reason: 'INC-46' },
    ]);
    const events = (await s.tdb.superuser(`SELECT type, actor, payload FROM audit_log WHERE type LIKE 'access.%' ORDER BY seq DESC LIMIT 2`)).rows;
    assert.deepEqual(events, [
      { type: 'access.opened', actor: 'operator:oncall', payload: { via: 'cli' } },
      { type: 'access.closed', actor: 'operator:oncall', payload: { via: 'cli' } },
    ]);
    await assert.rejects(closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: '  ' }), RangeError);
  });
});

for (const backend of backends()) {
  describe(`sesame access on ${backend.name}`, { skip: backend.skip }, () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let drop = async (): Promise<void> => undefined;

    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'sesame-access-'));
      env = { SESAME_DATA_DIR: dir, LOG_LEVEL: 'silent', USER: 'alice' };
      if (backend.name === 'postgres') {
        const created = await createPostgresDatabase();
        env.DATABASE_URL = created.url;
        drop = created.drop;
      }
      assert.equal((await sesame(['migrate'], env)).code, 0);
    });
    after(async () => {
      await drop();
      await rm(dir, { recursive: true, force: true });
    });

    test('status, close --reason, status, open: the state printed each time, audited as the operator', async () => {
      const status = await sesame(['access', 'status'], env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^citizen access: OPEN \(never changed\)$/m);
      assert.match(status.stdout, /isolation violations in the last 300 s: 0 \(access closes automatically at 3\)/);

      const close = await sesame(['access', 'close', '--reason', 'INC-7 tripwire review'], env);
      assert.equal(close.code, 0, close.stderr);
      assert.match(close.stdout, /^closed: /m);
      assert.match(close.stdout, /citizen access: CLOSED since \S+ by operator:alice \(reason: INC-7 tripwire review\)/);
      const again = await sesame(['access', 'close', '--reason', 'twice'], env);
      assert.match(again.stdout, /^already closed: nothing changed$/m);

      const closed = await sesame(['access', 'status'], env);
      assert.match(closed.stdout, /citizen access: CLOSED/);
      assert.match(closed.stdout, /recent changes:\n\s+\S+\s+closed\s+operator:alice\s+INC-7 tripwire review/);

      const open = await sesame(['access', 'open'], env);
      assert.equal(open.code, 0, open.stderr);
      assert.match(open.stdout, /^opened: /m);
      assert.match(open.stdout, /citizen access: OPEN since \S+ by operator:alice/);

      const db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: pgliteDir(dir) });
      try {
        assert.equal((await readAccess(db)).open, true);
      } finally {
        await db.close();
      }
    });

    test('bad usage: a clear message and exit code 2, nothing changed', async () => {
      const noReason = await sesame(['access', 'close'], env);
      assert.equal(noReason.code, 2);
      assert.match(noReason.stderr, /--reason is required/);
      const empty = await sesame(['access', 'close', '--reason', '   '], env);
      assert.equal(empty.code, 2);
      const unknownFlag = await sesame(['access', 'open', '--force'], env);
      assert.equal(unknownFlag.code, 2);
      const bare = await sesame(['access'], env);
      assert.equal(bare.code, 2);
      assert.match(bare.stderr, /access status/);
      const status = await sesame(['access', 'status'], env);
      assert.match(status.stdout, /citizen access: OPEN/);
    });
  });
}
