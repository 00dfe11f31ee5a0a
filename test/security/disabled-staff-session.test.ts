import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { readAccess } from '../../src/incident/access.ts';
import { disableStaff } from '../../src/staff/accounts.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser } from '../support/login.ts';
import { enrolStaff, staffLogin } from '../support/console.ts';

/**
 * A staff member leaves (or their laptop is stolen): `sesame staff disable` ends their live
 * sessions at once, and neither their cookie nor their passkey opens the console again.
 */
onEachBackend('disabled staff session', ({ t }) => {
  test('a disabled account: its open session and its passkey open nothing', async () => {
    const { b, authenticator, staffId } = await enrolStaff(t);
    const page = await b.get('/console');
    assert.equal(page.statusCode, 200);
    const result = await system(t.deps.db, 'cli:staff-disable', (tx) => disableStaff(tx, t.deps.clock, staffId, 'test'));
    assert.deepEqual(result, { changed: true, sessionsEnded: 1 });
    assert.equal((await b.get('/console')).headers.location, '/console/login');
    const action = await b.post('/console/access/close', { scope: 'citizens', 'reason-citizens': 'INC test' }, page.body);
    assert.equal(action.headers.location, '/console/login', 'a form posted with the old page does nothing');
    assert.equal((await readAccess(t.deps.db, 'citizens')).open, true);
    const login = await staffLogin(new Browser(t), authenticator);
    assert.equal(login.statusCode, 401);
    const { rows } = await system(t.deps.db, 'test', (tx) => tx.query<{ end_reason: string }>(`SELECT end_reason FROM staff_sessions WHERE staff_id = $1`, [staffId]));
    assert.deepEqual(rows.map((r) => r.end_reason), ['disabled']);
  });
});
