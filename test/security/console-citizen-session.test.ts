import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAccess } from '../../src/incident/access.ts';
import { SESSION_COOKIE } from '../../src/auth/session-plugin.ts';
import { STAFF_COOKIE } from '../../src/console/staff-session.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';
import { enrolStaff } from '../support/console.ts';

/**
 * The two areas never accept each other's sessions: a citizen's session cookie (even a fresh
 * eidas2 one) opens nothing under /console, and a staff cookie opens nothing under /account,
 * even renamed to the other's cookie name.
 */
onEachBackend('console with a citizen session', ({ t }) => {
  test('a logged-in citizen gets the console login page and cannot act', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    assert.equal((await b.get('/account')).statusCode, 200);
    const console = await b.get('/console');
    assert.equal(console.statusCode, 303);
    assert.equal(console.headers.location, '/console/login');
    const page = await b.get('/account');
    const res = await b.post('/console/access/close', { scope: 'citizens', 'reason-citizens': 'INC test' }, page.body);
    assert.equal(res.headers.location, '/console/login');
    // The citizen's token under the staff cookie's name: no such staff session.
    const planted = new Browser(t);
    planted.jar.set(STAFF_COOKIE, b.jar.get(SESSION_COOKIE) ?? '');
    assert.equal((await planted.get('/console')).headers.location, '/console/login');
    assert.equal((await readAccess(t.deps.db, 'citizens')).open, true);
  });

  test("a staff session gives nothing under /account, even under the citizen cookie's name", async () => {
    const { b } = await enrolStaff(t);
    assert.equal((await b.get('/console')).statusCode, 200);
    assert.equal((await b.get('/account')).headers.location, '/login');
    const planted = new Browser(t);
    planted.jar.set(SESSION_COOKIE, b.jar.get(STAFF_COOKIE) ?? '');
    assert.equal((await planted.get('/account')).headers.location, '/login');
    for (const url of ['/account/security', '/account/contact', '/account/procedures']) {
      assert.equal((await planted.get(url)).headers.location, '/login', url);
      assert.equal((await b.get(url)).headers.location, '/login', url);
    }
  });
});
