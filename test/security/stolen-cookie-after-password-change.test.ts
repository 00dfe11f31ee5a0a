import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, citizenWithPassword, lastCode, logIn, submitPassword } from '../support/login.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * Someone copied the citizen's session cookie and knows the old password. Once the citizen
 * changes the password from that very session, the copied cookie is dead and a login the
 * thief started with the old password cannot be finished with an email code.
 */
onEachBackend('stolen cookie and pending login after a change of password', ({ t }) => {
  test('the copied cookie stops working, the owner stays logged in, the pending login is ended', async () => {
    const c = await citizenWithPassword(t);
    const owner = new Browser(t);
    await logIn(owner, c);

    const thief = new Browser(t);
    thief.ip = '198.51.100.66';
    thief.jar.set('__Host-sesame-session', owner.jar.get('__Host-sesame-session') ?? '');
    assert.equal((await thief.get('/account')).statusCode, 200, 'the copy works before the change');
    const pending = await submitPassword(thief, c);
    t.clock.advance(1000);
    assert.equal((await thief.post(`${pending}/send`, { method: 'email-code' })).statusCode, 303);
    await thief.get(pending);
    const thiefCode = await lastCode(t, c.accountId);

    await owner.get('/account/security');
    const changed = await owner.post('/account/security/password', { method: 'password', current: c.password, password: 'a brand new passphrase 2026', confirm: 'a brand new passphrase 2026' });
    assert.equal(changed.statusCode, 303);
    assert.notEqual(owner.jar.get('__Host-sesame-session'), thief.jar.get('__Host-sesame-session'), 'the owner got a new token');

    assert.equal((await owner.get('/account')).statusCode, 200, 'the owner is still logged in');
    const stolen = await thief.get('/account');
    assert.equal(stolen.statusCode, 303);
    assert.equal(stolen.headers.location, '/login');

    const finish = await thief.post(pending, { method: 'email-code', code: thiefCode });
    assert.equal(finish.statusCode, 410, 'the login started with the old password is over');
    assert.equal(finish.headers.location, undefined);
  });
});
