import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { system } from '../../src/db/contexts.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn, type Citizen } from '../support/login.ts';
import { citizenWithApp } from '../support/totp.ts';
import { logInStrong } from '../support/idor.ts';
import { exportWithStepUp, setBankDetails } from '../support/beneficiary-file.ts';
import type { TestApp } from '../support/app.ts';

/**
 * Export without step-up: someone holding only a password and a mailbox (or a stolen session
 * cookie of an eidas1 session) asks for the whole file in clear. Every way in ends at the
 * step-up: no JSON, no attachment, no audit of an export, whatever the form says; an eidas2
 * session counts only for a few minutes; a form from another site is refused outright.
 */
const IBAN = 'FR7630006000011234567890189';

onEachBackend('export without step-up', ({ t }) => {
  const exports = (accountId: string) =>
    system(t.deps.db, 'test', async (tx) => (await tx.query(`SELECT 1 FROM audit_log WHERE account_id = $1 AND type = 'file.exported'`, [accountId])).rows.length);

  function assertNoFile(res: LightMyRequestResponse, c: Citizen, what: string): void {
    assert.equal(res.headers['content-disposition'], undefined, `${what}: no attachment`);
    assert.doesNotMatch(String(res.headers['content-type'] ?? ''), /application\/json/, `${what}: no JSON`);
    for (const s of [c.nir, IBAN]) assert.ok(!res.body.includes(s), `${what}: none of the file`);
  }

  async function withBank(t: TestApp, c: Citizen): Promise<void> {
    await setBankDetails(t, c.accountId, IBAN, `${c.givenNames} ${c.familyName}`);
  }

  test('an eidas1 session (password + email code) is sent to the step-up, whatever the form carries', async () => {
    const { c } = await citizenWithApp(t);
    await withBank(t, c);
    const b = new Browser(t);
    await logIn(b, c);
    await b.get('/account/export');
    const forms: Record<string, string>[] = [{}, { level: 'eidas2', stepUp: 'done', format: 'json' }];
    for (const fields of forms) {
      const res = await b.post('/account/export', fields);
      assert.equal(res.statusCode, 303);
      assert.match(String(res.headers.location), /^\/step-up\/[0-9a-f-]{36}$/);
      assertNoFile(res, c, 'eidas1 post');
      await b.get('/account/export');
    }
    const get = await b.get('/account/export?download=1');
    assert.equal(get.statusCode, 200);
    assertNoFile(get, c, 'the page itself');
    assert.equal(await exports(c.accountId), 0);
  });

  test('a citizen without any strong method is offered no download, and a forged post still ends at the step-up', async () => {
    const c = await citizenWithPassword(t);
    await withBank(t, c);
    const b = new Browser(t);
    await logIn(b, c);
    const page = await b.get('/account/export');
    assert.match(page.body, /id="export-needs-strong"/);
    assert.doesNotMatch(page.body, /id="export-form"/);
    // A valid token taken from another page of the area.
    const overview = await b.get('/account');
    const res = await b.post('/account/export', {}, overview.body);
    assert.equal(res.statusCode, 303);
    assert.match(String(res.headers.location), /^\/step-up\//);
    assertNoFile(res, c, 'forged post');
    assert.equal(await exports(c.accountId), 0);
  });

  test('an eidas2 session counts for 5 minutes only: after that the export asks again', async () => {
    const { c, secret } = await citizenWithApp(t);
    await withBank(t, c);
    const b = new Browser(t);
    await logInStrong(b, c, secret);
    await b.get('/account/export');
    const fresh = await b.post('/account/export', {});
    assert.equal(fresh.statusCode, 200, 'a strong login just now: the download goes through');
    assert.match(String(fresh.headers['content-disposition']), /^attachment;/);
    t.clock.advance(5 * 60 * 1000 + 1000);
    await b.get('/account/export');
    const stale = await b.post('/account/export', {});
    assert.equal(stale.statusCode, 303);
    assert.match(String(stale.headers.location), /^\/step-up\//);
    assertNoFile(stale, c, 'stale eidas2');
    assert.equal(await exports(c.accountId), 1);
  });

  test('a cross-site form (no CSRF token) is refused before anything, even from a fresh eidas2 session', async () => {
    const { c, secret } = await citizenWithApp(t);
    await withBank(t, c);
    const b = new Browser(t);
    await logInStrong(b, c, secret);
    const res = await t.app.inject({
      method: 'POST',
      url: '/account/export',
      cookies: b.jar.cookies(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      payload: '',
    });
    assert.equal(res.statusCode, 403);
    assertNoFile(res, c, 'cross-site post');
    assert.equal(await exports(c.accountId), 0);
  });

  test('the step-up done, the download goes through once, for this citizen', async () => {
    const { c, secret } = await citizenWithApp(t);
    await withBank(t, c);
    const b = new Browser(t);
    await logIn(b, c);
    const res = await exportWithStepUp(t, b, c, secret);
    assert.equal(res.statusCode, 200);
    assert.ok(res.body.includes(IBAN) && res.body.includes(c.nir));
    assert.equal(await exports(c.accountId), 1);
  });
});
