import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csrfTokenIn, form } from '../support/app.ts';
import { Browser } from '../support/login.ts';
import { sessionsOf } from '../support/rules-db.ts';
import { onEachBackend } from '../support/suites.ts';
import { appCode, atTotpStep, citizenAtEnrolment, citizenWithApp } from '../support/totp.ts';

/**
 * Authenticator-app code replay: a code seen once (over a shoulder, through a phishing proxy
 * that relays it, a double submission) must not open a second session, even while the app
 * still shows it (30 seconds, up to 90 with the window), in the same flow or another one.
 */
onEachBackend('authenticator app code replay', ({ t, tdb }) => {
  test('a code that logged in, posted again in a new flow within its step, is refused and opens no session', async () => {
    const { c, secret } = await citizenWithApp(t);
    const code = appCode(secret, t.clock);
    const first = new Browser(t);
    const flow = await atTotpStep(first, c);
    const page = first.lastPage;
    assert.equal((await first.post(`${flow}/totp`, { method: 'totp', code })).statusCode, 303);
    const count = (await sessionsOf(tdb.db, c.accountId)).length;

    // The same flow again: it is over.
    assert.equal((await first.post(`${flow}/totp`, { method: 'totp', code }, page)).statusCode, 410);

    // Another flow, ten seconds later, same step.
    t.clock.advance(10_000);
    const second = new Browser(t);
    const other = await atTotpStep(second, c);
    const replay = await second.post(`${other}/totp`, { method: 'totp', code });
    assert.equal(replay.statusCode, 400);
    assert.match(replay.body, /Ce code a déjà été utilisé/);
    assert.ok(!String(replay.headers['set-cookie'] ?? '').includes('__Host-sesame-session='), 'no session cookie');
    assert.equal((await sessionsOf(tdb.db, c.accountId)).length, count);

    // The next step's code works.
    t.clock.advance(30_000);
    assert.equal((await second.post(`${other}/totp`, { method: 'totp', code: appCode(secret, t.clock) })).statusCode, 303);
  });

  test('once a later step was accepted (a fast clock), the earlier steps of the window are refused', async () => {
    const { c, secret } = await citizenWithApp(t);
    const b = new Browser(t);
    const flow = await atTotpStep(b, c);
    assert.equal((await b.post(`${flow}/totp`, { method: 'totp', code: appCode(secret, t.clock, 1) })).statusCode, 303);
    const b2 = new Browser(t);
    const flow2 = await atTotpStep(b2, c);
    for (const steps of [0, -1]) {
      const code = appCode(secret, t.clock, steps);
      if (code === appCode(secret, t.clock, 1)) continue;
      const res = await b2.post(`${flow2}/totp`, { method: 'totp', code });
      assert.equal(res.statusCode, 400, `step ${steps}`);
      assert.match(res.body, /Ce code a déjà été utilisé/);
    }
  });

  test('the code typed to confirm the enrolment cannot log in', async () => {
    const { c, b, secret, pending } = await citizenAtEnrolment(t);
    const code = appCode(secret, t.clock);
    assert.equal((await b.post('/account/security/totp/new', { method: 'totp', pending, name: 'Téléphone', code })).statusCode, 200);
    const thief = new Browser(t);
    const flow = await atTotpStep(thief, c);
    const res = await thief.post(`${flow}/totp`, { method: 'totp', code });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /Ce code a déjà été utilisé/);
  });

  test('one code relayed to two flows at once (a phishing proxy racing the citizen): one session', async () => {
    const { c, secret } = await citizenWithApp(t);
    const code = appCode(secret, t.clock);
    const browsers = [new Browser(t), new Browser(t), new Browser(t)];
    const flows = await Promise.all(browsers.map((b) => atTotpStep(b, c)));
    const before = (await sessionsOf(tdb.db, c.accountId)).length;
    const results = await Promise.all(
      browsers.map((b, i) => {
        const body = form({ _csrf: csrfTokenIn(b.lastPage), method: 'totp', code });
        return t.app.inject({ method: 'POST', url: `${flows[i]}/totp`, cookies: b.jar.cookies(), headers: body.headers, payload: body.payload, remoteAddress: b.ip });
      }),
    );
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [303, 400, 400]);
    assert.equal((await sessionsOf(tdb.db, c.accountId)).length, before + 1);
  });
});
