import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, lastCode, logIn } from '../support/login.ts';

/**
 * Changing the password needs the current password and a fresh email code (issue 4): the code
 * of the login counts for 5 minutes; after that a confirmation flow sends a new one and brings
 * the citizen back to the form. What was typed is not kept: it is all secrets.
 */
onEachBackend('change of password needs a fresh email code', ({ t }) => {
  test('within 5 minutes of the login the login’s code counts; after, a code is asked, then the change goes through', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    t.clock.advance(6 * 60 * 1000);
    await b.get('/account/security');
    const asked = await b.post('/account/security/password', { method: 'password', current: c.password, password: 'a brand new passphrase 2026', confirm: 'a brand new passphrase 2026' });
    assert.equal(asked.statusCode, 303);
    const confirm = String(asked.headers.location);
    assert.match(confirm, /^\/confirm\/[0-9a-f-]{36}$/);
    // Nothing typed was stored with the flow: no kept form at all.
    const kept = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ kept_form: Uint8Array | null }>(`SELECT kept_form FROM auth_flows WHERE id = $1`, [confirm.slice(9)])).rows[0]?.kept_form);
    assert.equal(kept, null);

    const page = await b.get(confirm);
    assert.equal(page.statusCode, 200);
    t.clock.advance(1000);
    assert.equal((await b.post(`${confirm}/send`, { method: 'email-code' })).statusCode, 303);
    const mails = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ template: string }>(`SELECT template FROM outbox WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1`, [c.accountId])).rows);
    assert.equal(mails[0]?.template, 'one-time-code');
    await b.get(confirm);
    const done = await b.post(confirm, { method: 'email-code', code: await lastCode(t, c.accountId) });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/account/security');

    await b.get('/account/security');
    const changed = await b.post('/account/security/password', { method: 'password', current: c.password, password: 'a brand new passphrase 2026', confirm: 'a brand new passphrase 2026' });
    assert.equal(changed.statusCode, 303);
    assert.equal(changed.headers.location, '/account/security?done=password-changed');
  });

  test('the confirmation code of one session does not confirm another', async () => {
    const c = await citizenWithPassword(t);
    const first = new Browser(t);
    await logIn(first, c);
    t.clock.advance(6 * 60 * 1000);
    await first.get('/account/security');
    const confirm = String((await first.post('/account/security/password', { method: 'password', current: c.password, password: 'x'.repeat(20), confirm: 'x'.repeat(20) })).headers.location);
    await first.get(confirm);
    t.clock.advance(1000);
    await first.post(`${confirm}/send`, { method: 'email-code' });
    const code = await lastCode(t, c.accountId);
    const second = new Browser(t);
    await logIn(second, c);
    await second.get('/account/security');
    assert.equal((await second.post(confirm, { method: 'email-code', code })).statusCode, 404);
  });
});
