import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAccess } from '../../src/incident/access.ts';
import { csrfTokenIn, form } from '../support/app.ts';
import { onEachBackend } from '../support/suites.ts';
import { enrolStaff } from '../support/console.ts';

/**
 * A page on another site makes the operator's browser post a close of citizen access. The
 * staff cookie is SameSite=Strict (not sent at all from another site), and even with it the
 * CSRF token is missing or the browser says cross-site: 403, nothing closed.
 */
onEachBackend('console CSRF', ({ t }) => {
  test('a close posted without the token, with a wrong one, or cross-site: 403, access open', async () => {
    const { b } = await enrolStaff(t);
    const page = await b.get('/console');
    const token = csrfTokenIn(page.body);
    const attempts: { fields: Record<string, string>; headers: Record<string, string> }[] = [
      { fields: { scope: 'citizens', 'reason-citizens': 'pwned' }, headers: {} },
      { fields: { scope: 'citizens', 'reason-citizens': 'pwned', _csrf: 'A'.repeat(43) }, headers: {} },
      { fields: { scope: 'citizens', 'reason-citizens': 'pwned', _csrf: token }, headers: { 'sec-fetch-site': 'cross-site' } },
    ];
    for (const a of attempts) {
      const body = form(a.fields);
      const res = await t.app.inject({ method: 'POST', url: '/console/access/close', cookies: b.jar.cookies(), headers: { ...body.headers, ...a.headers }, payload: body.payload });
      assert.equal(res.statusCode, 403, JSON.stringify(a));
    }
    for (const url of ['/console/logout', '/console/enrol', '/console/login/options', '/console/access/open']) {
      const res = await t.app.inject({ method: 'POST', url, cookies: b.jar.cookies(), ...form({}) });
      assert.equal(res.statusCode, 403, url);
    }
    assert.equal((await readAccess(t.deps.db, 'citizens')).open, true);
    // The genuine form still works.
    const ok = await b.post('/console/access/close', { scope: 'citizens', 'reason-citizens': 'INC test' }, page.body);
    assert.equal(ok.headers.location, '/console?done=closed');
  });
});
