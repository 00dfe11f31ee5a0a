import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeAccess, openAccess, previewAccess } from '../../src/incident/access.ts';
import { captureLogs } from '../support/app.ts';
import { auditTypes, enrolStaff, staffLogin } from '../support/console.ts';
import { onEachBackend, type AppSuite } from '../support/suites.ts';

/**
 * A staff account in the wrong hands (the employment agency's breach came through a partner's
 * staff accounts): closing the console's scope must end the sessions already open, or the
 * attacker's session resumes the moment the console reopens. A login in flight when the scope
 * closes must not start one either.
 */
const OPERATOR = { kind: 'operator', name: 'oncall' } as const;
const liveStaffSessions = async (s: AppSuite): Promise<number> =>
  ((await s.tdb.superuser(`SELECT count(*)::int AS n FROM staff_sessions WHERE ended_at IS NULL`)).rows[0] as { n: number }).n;

let logs = captureLogs('info');

onEachBackend('staff sessions when the staff scope closes', () => ((logs = captureLogs('info')), { logger: logs.logger, env: { SESAME_ACCESS_CACHE_MS: '1000' } }), (s) => {
  test('closing the staff scope ends every live staff session; after reopening, the old cookie opens nothing', async () => {
    const intruder = await enrolStaff(s.t);
    const colleague = await enrolStaff(s.t);
    const live = await liveStaffSessions(s);
    assert.ok(live >= 2);
    // The console says so before anyone closes it.
    const dashboard = await intruder.b.get('/console');
    assert.equal(dashboard.statusCode, 200);
    assert.match(dashboard.body, new RegExp(`id="staff-sessions-to-end">Sessions d’agents ouvertes, dont la vôtre, qui prendraient fin maintenant : ${live}\\.`));

    const preview = await previewAccess(s.t.deps.db, s.t.clock, { action: 'close', scope: 'staff', by: OPERATOR, record: false });
    assert.deepEqual([preview.staffSessionsToEnd, preview.sessionsToEnd], [live, 0], 'a dry run counts them');
    assert.equal(await liveStaffSessions(s), live, 'and ends none');

    const closed = await closeAccess(s.t.deps.db, s.t.clock, { scope: 'staff', by: OPERATOR, reason: 'INC-STAFF' });
    try {
      assert.deepEqual([closed.staffSessionsEnded, closed.sessionsEnded], [live, 0]);
      assert.equal(await liveStaffSessions(s), 0);
      const reasons = await s.tdb.superuser(`SELECT DISTINCT end_reason FROM staff_sessions WHERE ended_at IS NOT NULL`);
      assert.deepEqual(reasons.rows, [{ end_reason: 'access-closed' }]);
      const events = (await auditTypes(s.t, 'staff.sessions-ended')).map((e) => e.payload);
      assert.deepEqual(events.at(-1), { count: live, reason: 'access-closed' });
    } finally {
      await openAccess(s.t.deps.db, s.t.clock, { scope: 'staff', by: OPERATOR });
    }
    for (const b of [intruder.b, colleague.b]) {
      const res = await b.get('/console');
      assert.equal(res.statusCode, 303, 'back to the console login');
      assert.match(String(res.headers.location), /^\/console\/login/);
    }
    // The rightful owner logs in again with the passkey.
    const again = await staffLogin(colleague.b, colleague.authenticator);
    assert.equal(again.statusCode, 200, again.body);
    assert.equal((await colleague.b.get('/console')).statusCode, 200);
  });

  test('closing citizens leaves staff sessions; closing all ends both', async () => {
    const staff = await enrolStaff(s.t);
    const citizensOnly = await closeAccess(s.t.deps.db, s.t.clock, { scope: 'citizens', by: OPERATOR, reason: 'INC-C' });
    await openAccess(s.t.deps.db, s.t.clock, { scope: 'citizens', by: OPERATOR });
    assert.equal(citizensOnly.staffSessionsEnded, 0);
    assert.equal((await staff.b.get('/console')).statusCode, 200);
    const all = await closeAccess(s.t.deps.db, s.t.clock, { scope: 'all', by: OPERATOR, reason: 'INC-ALL' });
    await openAccess(s.t.deps.db, s.t.clock, { scope: 'all', by: OPERATOR });
    assert.ok(all.staffSessionsEnded >= 1);
    assert.equal(await liveStaffSessions(s), 0);
  });

  test('a console login in flight when the scope closes elsewhere starts no session', async () => {
    const staff = await enrolStaff(s.t);
    await closeAccess(s.t.deps.db, s.t.clock, { scope: 'staff', by: OPERATOR, reason: 'INC-CLEAN' });
    await openAccess(s.t.deps.db, s.t.clock, { scope: 'staff', by: OPERATOR });
    assert.equal(await liveStaffSessions(s), 0);
    // The door caches "open" for this second; the scope then closes from another process.
    assert.equal((await staff.b.get('/console/login')).statusCode, 200);
    const cached = performance.now();
    await s.tdb.superuser(`UPDATE staff_access SET open = false, changed_at = now(), changed_by = 'operator:elsewhere', reason = 'test'`);
    try {
      const since = logs.lines().length;
      const res = await staffLogin(staff.b, staff.authenticator);
      assert.equal(res.statusCode, 503);
      if (performance.now() - cached < 900) {
        assert.ok(
          logs.lines().slice(since).some((l) => l.msg === 'request failed' && (l.err as { type?: string } | undefined)?.type === 'AccessClosedError'),
          'refused by the login step itself, past the door',
        );
      }
      assert.equal(await liveStaffSessions(s), 0, 'no session was started');
    } finally {
      await openAccess(s.t.deps.db, s.t.clock, { scope: 'staff', by: OPERATOR });
    }
  });
});
