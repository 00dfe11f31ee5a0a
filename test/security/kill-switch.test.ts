import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeAccess, openAccess, readAccess } from '../../src/incident/access.ts';
import { dsfrUrl } from '../../src/web/static.ts';
import { sesame } from '../support/cli.ts';
import { backends } from '../support/databases.ts';
import { cliWorkspace, type CliWorkspace } from '../support/cli-workspace.ts';
import { Browser, citizenWithPassword, lastCode, logIn, submitPassword } from '../support/login.ts';
import { onEachBackend, type AppSuite } from '../support/suites.ts';
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
const CONSOLE_PAGES = ['/console', '/console/', '/console/incidents/INC-2026-001', '/console/a-page-added-later?lang=en'];
const OPERATOR = { kind: 'operator', name: 'oncall' } as const;
const live = async (s: AppSuite, accountId: string): Promise<number> =>
  ((await s.tdb.superuser(`SELECT count(*)::int AS n FROM sessions WHERE account_id = $1 AND ended_at IS NULL`, [accountId])).rows[0] as { n: number }).n;

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
      // The console is the staff scope's: closing citizens leaves it to its own flag.
      for (const url of CONSOLE_PAGES) assert.notEqual((await s.t.app.inject({ url })).statusCode, 503, url);
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
    const history = (await s.tdb.superuser(`SELECT scope, state, changed_by, reason FROM citizen_access_history ORDER BY seq DESC LIMIT 2`)).rows;
    assert.deepEqual(history, [
      { scope: 'citizens', state: 'open', changed_by: 'operator:oncall', reason: null },
      { scope: 'citizens', state: 'closed', changed_by: 'operator:oncall', reason: 'INC-46' },
    ]);
    const events = (await s.tdb.superuser(`SELECT type, actor, payload FROM audit_log WHERE type LIKE 'access.%' ORDER BY seq DESC LIMIT 2`)).rows;
    assert.deepEqual(events, [
      { type: 'access.opened', actor: 'operator:oncall', payload: { via: 'cli', scope: 'citizens' } },
      { type: 'access.closed', actor: 'operator:oncall', payload: { via: 'cli', scope: 'citizens' } },
    ]);
    await assert.rejects(closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: '  ' }), RangeError);
    await assert.rejects(closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: 'INC-46', messages: { fr: 'ligne\nsuivante', en: 'ok' } }), RangeError);
    assert.equal((await readAccess(s.t.deps.db)).open, true, 'a refused close changes nothing');
  });

  test('closing citizens ends every live citizen session: a logged-in citizen is logged out for good', async () => {
    const c = await citizenWithPassword(s.t);
    const b = new Browser(s.t);
    await logIn(b, c);
    assert.equal((await b.get('/account')).statusCode, 200);
    const since = Number(((await s.tdb.superuser(`SELECT coalesce(max(seq), 0)::int AS n FROM audit_log`)).rows[0] as { n: number }).n);
    const closed = await closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: 'INC-47' });
    assert.ok(closed.sessionsEnded >= 1, `ended ${closed.sessionsEnded}`);
    assert.equal(await live(s, c.accountId), 0);
    const ended = (await s.tdb.superuser(`SELECT end_reason FROM sessions WHERE account_id = $1`, [c.accountId])).rows;
    assert.deepEqual(ended, [{ end_reason: 'access-closed' }]);
    const audited = (await s.tdb.superuser(`SELECT account_id, payload FROM audit_log WHERE type = 'sessions.ended' AND seq > $1`, [since])).rows;
    assert.deepEqual(audited, [{ account_id: null, payload: { count: closed.sessionsEnded, reason: 'access-closed', kept: null } }], 'one event, a count, no one named');
    // Closing again sweeps again (a session a login in flight started) and ends nothing more.
    assert.equal((await closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: 'INC-47' })).sessionsEnded, 0);
    await openAccess(s.t.deps.db, s.t.clock, { by: OPERATOR });
    const after = await b.get('/account');
    assert.equal(after.statusCode, 303);
    assert.match(String(after.headers.location), /^\/login/);
  });

  test('staff scope: every path under /console answers the maintenance page, French first with English; citizens are untouched', async () => {
    const c = await citizenWithPassword(s.t);
    const b = new Browser(s.t);
    await logIn(b, c);
    const closed = await closeAccess(s.t.deps.db, s.t.clock, { scope: 'staff', by: { kind: 'staff', name: 'duty-officer' }, reason: 'INC-48 console review' });
    try {
      assert.deepEqual([closed.changed, closed.state.scope, closed.sessionsEnded], [true, 'staff', 0]);
      for (const url of CONSOLE_PAGES) {
        for (const method of ['GET', 'POST'] as const) {
          const res = await s.t.app.inject({ method, url, headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}, payload: method === 'POST' ? 'a=b' : undefined });
          assert.equal(res.statusCode, 503, `${method} ${url}`);
          assert.equal(res.headers['retry-after'], '120');
          assert.match(res.body, /<h1>Service momentanément indisponible<\/h1>/, `${url}: French first, whatever the request asks`);
          assert.match(res.body, /La console des opérateurs est fermée/);
          assert.match(res.body, /lang="en"[^>]*>\s*<h2[^>]*>Service temporarily unavailable[\s\S]*The operator console is closed/);
          assert.doesNotMatch(res.body, /INC-48/);
        }
      }
      // Citizens keep their pages and their session.
      assert.equal((await b.get('/account')).statusCode, 200);
      assert.equal(await live(s, c.accountId), 1);
      assert.equal((await readAccess(s.t.deps.db)).open, true);
      assert.equal((await readAccess(s.t.deps.db, 'staff')).changedBy, 'staff:duty-officer');
      const event = (await s.tdb.superuser(`SELECT actor, payload FROM audit_log WHERE type = 'access.closed' ORDER BY seq DESC LIMIT 1`)).rows;
      assert.deepEqual(event, [{ actor: 'system:console:access', payload: { via: 'console', scope: 'staff' } }]);
    } finally {
      await openAccess(s.t.deps.db, s.t.clock, { scope: 'staff', by: { kind: 'staff', name: 'duty-officer' } });
    }
    for (const url of CONSOLE_PAGES) assert.notEqual((await s.t.app.inject({ url })).statusCode, 503, url);
  });

  test('scope all: the console and every citizen page closed at once, both reopened; one history row and event per scope', async () => {
    const closed = await closeAccess(s.t.deps.db, s.t.clock, { scope: 'all', by: OPERATOR, reason: 'INC-49' });
    try {
      assert.deepEqual(
        closed.scopes.map((x) => [x.scope, x.changed, x.state.open]),
        [
          ['citizens', true, false],
          ['staff', true, false],
        ],
      );
      for (const url of ['/', '/account', '/console', '/console/x']) assert.equal((await s.t.app.inject({ url })).statusCode, 503, url);
      for (const url of ['/healthz', '/metrics']) assert.equal((await s.t.app.inject({ url })).statusCode, 200, url);
    } finally {
      const opened = await openAccess(s.t.deps.db, s.t.clock, { scope: 'all', by: OPERATOR });
      assert.deepEqual(opened.scopes.map((x) => x.state.open), [true, true]);
    }
    for (const url of ['/', '/console']) assert.notEqual((await s.t.app.inject({ url })).statusCode, 503, url);
    const history = (await s.tdb.superuser(`SELECT scope, state FROM citizen_access_history ORDER BY seq DESC LIMIT 4`)).rows;
    assert.deepEqual(history, [
      { scope: 'staff', state: 'open' },
      { scope: 'citizens', state: 'open' },
      { scope: 'staff', state: 'closed' },
      { scope: 'citizens', state: 'closed' },
    ]);
  });

  test('the message given is shown in both languages instead of the default text, and kept in the history', async () => {
    const messages = { fr: 'Réouverture prévue à 18 h.', en: 'We expect to reopen at 6 pm.' };
    await closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: 'INC-50', messages });
    try {
      const fr = await s.t.app.inject({ url: '/account' });
      assert.match(fr.body, /<p class="fr-mb-3w" id="maintenance-message">Réouverture prévue à 18 h.<\/p>/);
      assert.match(fr.body, /<p id="maintenance-message-en">We expect to reopen at 6 pm.<\/p>/);
      assert.doesNotMatch(fr.body, /Réessayez un peu plus tard/, 'the default body is replaced');
      const en = await s.t.app.inject({ url: '/?lang=en' });
      assert.match(en.body, /id="maintenance-message">We expect to reopen at 6 pm.</);
      assert.match(en.body, /id="maintenance-message-fr">Réouverture prévue à 18 h.</);
      assert.deepEqual((await readAccess(s.t.deps.db)).messages, messages);
    } finally {
      await openAccess(s.t.deps.db, s.t.clock, { by: OPERATOR });
    }
    const history = (await s.tdb.superuser(`SELECT state, message_fr, message_en FROM citizen_access_history ORDER BY seq DESC LIMIT 2`)).rows;
    assert.deepEqual(history, [
      { state: 'open', message_fr: null, message_en: null },
      { state: 'closed', message_fr: messages.fr, message_en: messages.en },
    ]);
    // Reopened, the message is gone: the next close without one shows the default text.
    await closeAccess(s.t.deps.db, s.t.clock, { by: OPERATOR, reason: 'INC-51' });
    try {
      assert.match((await s.t.app.inject({ url: '/' })).body, /Réessayez un peu plus tard/);
    } finally {
      await openAccess(s.t.deps.db, s.t.clock, { by: OPERATOR });
    }
  });
});

for (const backend of backends()) {
  describe(`sesame access on ${backend.name}`, { skip: backend.skip }, () => {
    let ws: Omit<CliWorkspace, 'ring'>;
    let env: NodeJS.ProcessEnv;

    before(async () => {
      ws = await cliWorkspace(backend, { prefix: 'sesame-access-', user: 'alice', ring: false });
      env = ws.env;
    });
    after(() => ws?.close());

    const json = <T>(r: { code: number; stdout: string; stderr: string }): T => {
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as T;
    };
    const status = async (): Promise<{ citizens: { open: boolean; messages: unknown }; staff: { open: boolean } }> => json(await sesame(['access', 'status', '--json'], env));

    test('status, dry run, close --apply, status, open --apply: the state printed each time, audited as the operator, no incident needed', async () => {
      const first = await sesame(['access', 'status'], env);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^citizen access: OPEN \(never changed\)$/m);
      assert.match(first.stdout, /^staff console: OPEN \(never changed\)$/m);
      assert.match(first.stdout, /isolation violations in the last 300 s: 0 \(citizen access closes automatically at 3\)/);

      const dry = await sesame(['access', 'close', '--reason', 'INC-7 tripwire review'], env);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /^citizen access: would close \(now open\)$/m);
      assert.match(dry.stdout, /^citizen sessions that would end: 0$/m);
      assert.match(dry.stdout, /dry run: nothing was changed. Run again with --apply to do it: sesame access close --scope citizens --reason 'INC-7 tripwire review' --apply\n$/);
      assert.equal((await status()).citizens.open, true, 'a dry run changes nothing');

      const close = await sesame(['access', 'close', '--reason', 'INC-7 tripwire review', '--apply'], env);
      assert.equal(close.code, 0, close.stderr);
      assert.match(close.stdout, /^citizen access: closed$/m);
      assert.match(close.stdout, /^citizen sessions ended: 0$/m);
      assert.match(close.stdout, /citizen access: CLOSED since \S+ by operator:alice \(reason: INC-7 tripwire review\)/);
      assert.doesNotMatch(close.stdout, /timeline/, 'no incident open: nothing recorded, nothing refused');
      const again = await sesame(['access', 'close', '--reason', 'twice', '--apply'], env);
      assert.match(again.stdout, /^citizen access: already closed: nothing changed$/m);

      const closed = await sesame(['access', 'status'], env);
      assert.match(closed.stdout, /citizen access: CLOSED/);
      assert.match(closed.stdout, /staff console: OPEN/);
      assert.match(closed.stdout, /recent changes:\n\s+\S+\s+citizens\s+closed\s+operator:alice\s+INC-7 tripwire review/);

      const dryOpen = await sesame(['access', 'open'], env);
      assert.match(dryOpen.stdout, /^citizen access: would open \(now closed\)$/m);
      assert.match(dryOpen.stdout, /--apply to do it: sesame access open --scope citizens --apply$/m);
      const open = await sesame(['access', 'open', '--apply'], env);
      assert.equal(open.code, 0, open.stderr);
      assert.match(open.stdout, /^citizen access: opened$/m);
      assert.match(open.stdout, /citizen access: OPEN since \S+ by operator:alice/);

      assert.equal((await ws.withDb((db) => readAccess(db))).open, true);
    });

    test('--json: one document on stdout, for the dry run, the change and the status; scopes and messages', async () => {
      const dry = json<Record<string, unknown>>(await sesame(['access', 'close', '--scope', 'all', '--reason', 'INC-8', '--message-fr', 'Retour à 18 h.', '--message-en', 'Back at 6 pm.', '--json'], env));
      assert.deepEqual(dry, { action: 'close', scope: 'all', applied: false, incident: null, scopes: { citizens: { open: true, changed: true }, staff: { open: true, changed: true } }, sessionsEnded: 0, staffSessionsEnded: 0 });
      const applied = json<Record<string, unknown>>(await sesame(['access', 'close', '--scope', 'all', '--reason', 'INC-8', '--message-fr', 'Retour à 18 h.', '--message-en', 'Back at 6 pm.', '--apply', '--json'], env));
      assert.deepEqual(applied, { action: 'close', scope: 'all', applied: true, incident: null, scopes: { citizens: { open: false, changed: true }, staff: { open: false, changed: true } }, sessionsEnded: 0, staffSessionsEnded: 0 });
      const s = await status();
      assert.deepEqual([s.citizens.open, s.staff.open, s.citizens.messages], [false, false, { fr: 'Retour à 18 h.', en: 'Back at 6 pm.' }]);
      const staffOnly = json<Record<string, unknown>>(await sesame(['access', 'open', '--scope', 'staff', '--apply', '--json'], env));
      assert.deepEqual(staffOnly, { action: 'open', scope: 'staff', applied: true, incident: null, scopes: { staff: { open: true, changed: true } }, sessionsEnded: 0, staffSessionsEnded: 0 });
      const after = await status();
      assert.deepEqual([after.citizens.open, after.staff.open], [false, true]);
      json(await sesame(['access', 'open', '--apply', '--json'], env));
      assert.equal((await status()).citizens.open, true);
    });

    test('with one incident open, every run is a step of its timeline, dry runs included; an unknown incident is refused', async () => {
      const opened = await sesame(['incident', 'open', '--title', 'Kill switch drill', '--detected-at', '2020-01-01T00:00:00Z', '--json'], env);
      const { reference } = json<{ reference: string }>(opened);
      try {
        assert.equal((await sesame(['access', 'close', '--reason', reference], env)).code, 0);
        const close = await sesame(['access', 'close', '--reason', reference, '--apply'], env);
        assert.match(close.stdout, new RegExp(`recorded on ${reference}'s timeline`));
        const open = json<{ incident: string }>(await sesame(['access', 'open', '--incident', reference, '--apply', '--json'], env));
        assert.equal(open.incident, reference);
        const timeline = json<{ timeline: { step: string; applied: boolean; by: string; summary: Record<string, unknown> }[] }>(await sesame(['incident', 'status', '--json'], env)).timeline;
        const steps = timeline.filter((x) => x.step === 'access');
        assert.deepEqual(
          steps.map((x) => [x.applied, x.by]),
          [
            [false, 'operator:alice'],
            [true, 'operator:alice'],
            [true, 'operator:alice'],
          ],
        );
        assert.deepEqual(steps[0]?.summary, { action: 'close', scope: 'citizens', via: 'cli', changed: ['citizens'], sessionsEnded: 0, staffSessionsEnded: 0, message: false });
        const applied = timeline.filter((x) => x.step === 'access' && x.applied).map((x) => x.summary);
        assert.deepEqual(applied, [
          { action: 'close', scope: 'citizens', via: 'cli', changed: ['citizens'], sessionsEnded: 0, staffSessionsEnded: 0, message: false },
          { action: 'open', scope: 'citizens', via: 'cli', changed: ['citizens'], sessionsEnded: 0, staffSessionsEnded: 0, message: false },
        ]);
        const unknown = await sesame(['access', 'close', '--reason', 'x', '--incident', 'INC-1999-001', '--apply'], env);
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /no incident INC-1999-001/);
        assert.equal((await status()).citizens.open, true, 'refused: nothing changed');
      } finally {
        assert.equal((await sesame(['incident', 'close', '--incident', reference], env)).code, 0);
      }
    });

    test('bad usage: a clear message naming the flag and exit code 2, nothing changed', async () => {
      const cases: [string[], RegExp][] = [
        [['access', 'close'], /--reason is required/],
        [['access', 'close', '--reason', '   '], /--reason is required/],
        [['access', 'close', '--reason', 'x', '--scope', 'everyone'], /--scope must be one of: citizens, staff, all/],
        [['access', 'open', '--scope', 'citizen'], /--scope must be one of/],
        [['access', 'close', '--reason', 'x', '--message-fr', 'ligne\nsuivante', '--message-en', 'ok', '--apply'], /--message-fr must be 1 to 500 characters of plain text in one paragraph/],
        [['access', 'close', '--reason', 'x', '--message-fr', 'ok', '--message-en', 'bell\u0007', '--apply'], /--message-en must be/],
        [['access', 'close', '--reason', 'x', '--message-fr', 'ok', '--message-en', 'x'.repeat(501), '--apply'], /--message-en must be 1 to 500/],
        [['access', 'close', '--reason', 'x', '--message-fr', 'seul', '--apply'], /--message-en is required with --message-fr/],
        [['access', 'close', '--reason', 'x', '--message-en', 'alone', '--apply'], /--message-fr is required with --message-en/],
        [['access', 'open', '--force'], /--force/],
        [['access', 'status', '--incident', 'INC-2026-001'], /--incident does not apply/],
      ];
      for (const [args, message] of cases) {
        const r = await sesame(args, env);
        assert.equal(r.code, 2, args.join(' '));
        assert.match(r.stderr, message, args.join(' '));
      }
      const bare = await sesame(['access'], env);
      assert.equal(bare.code, 2);
      assert.match(bare.stderr, /access status/);
      const s = await status();
      assert.deepEqual([s.citizens.open, s.staff.open], [true, true]);
    });
  });
}
