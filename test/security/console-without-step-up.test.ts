import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAccess } from '../../src/incident/access.ts';
import { onEachBackend } from '../support/suites.ts';
import { authenticatorFor, postJson } from '../support/passkeys.ts';
import { auditTypes, enrolStaff, stepUpAt } from '../support/console.ts';
import type { RequestOptions } from '../support/webauthn.ts';

/**
 * A console action with a passkey older than 5 minutes: the action is not done, a step-up is
 * asked. The step-up cannot be finished with another staff member's passkey, nor by replaying
 * an assertion, nor from another session; only then does the kept form run.
 */
const stepUpLocation = /^\/console\/step-up\/[0-9a-f-]{36}$/;

onEachBackend('console action without step-up', ({ t }) => {
  test('a stale session posting a close directly: step-up asked, access still open', async () => {
    const { b } = await enrolStaff(t);
    t.clock.advance(5 * 60_000 + 1000);
    await b.get('/console');
    const res = await b.post('/console/access/close', { scope: 'citizens', 'reason-citizens': 'INC test' });
    assert.equal(res.statusCode, 303);
    assert.match(String(res.headers.location), stepUpLocation);
    assert.equal((await readAccess(t.deps.db, 'citizens')).open, true);
    assert.equal((await auditTypes(t, 'staff.action')).length, 0);
  });

  test("another staff member's passkey, a replayed assertion, another session: refused, nothing done", async () => {
    const alice = await enrolStaff(t);
    const mallory = await enrolStaff(t);
    t.clock.advance(6 * 60_000);
    await alice.b.get('/console');
    const asked = await alice.b.post('/console/access/close', { scope: 'citizens', 'reason-citizens': 'INC test' });
    const url = String(asked.headers.location);
    assert.match(url, stepUpLocation);

    // Mallory's own session cannot even see Alice's step-up.
    const foreign = await mallory.b.get(url);
    assert.equal(foreign.headers.location, '/console', "another session's step-up reads as gone");
    await mallory.b.get('/console');
    const foreignOptions = await postJson(mallory.b, `${url}/options`, { method: 'passkey' });
    assert.equal(foreignOptions.statusCode, 404);

    // Alice's browser answered with Mallory's passkey (no allowCredentials can stop a forger).
    await alice.b.get(url);
    const started = await postJson(alice.b, `${url}/options`, { method: 'passkey' });
    const { options } = started.json<{ options: RequestOptions }>();
    const wrong = await postJson(alice.b, `${url}/passkey`, { method: 'passkey', credential: mallory.authenticator.get({ ...options, allowCredentials: [] }) });
    assert.equal(wrong.statusCode, 401);
    // The challenge was taken by that attempt: Alice's own answer to it is refused too.
    const replay = await postJson(alice.b, `${url}/passkey`, { method: 'passkey', credential: alice.authenticator.get(options) });
    assert.equal(replay.statusCode, 401);
    assert.equal((await readAccess(t.deps.db, 'citizens')).open, true);
    const reasons = (await auditTypes(t, 'staff.refused')).map((e) => e.payload.reason);
    assert.deepEqual(reasons.slice(-2), ['other-staff', 'no-challenge']);

    // A fresh challenge and her own passkey: the kept close goes through.
    const ok = await stepUpAt(alice.b, url, alice.authenticator);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.ok(ok.json<{ form: unknown }>().form);
    // The step-up cannot be used twice.
    const twice = await postJson(alice.b, `${url}/options`, { method: 'passkey' });
    assert.equal(twice.statusCode, 404);
  });

  test('a passkey unknown to the console (a software key never enrolled) cannot step up', async () => {
    const { b } = await enrolStaff(t);
    t.clock.advance(6 * 60_000);
    await b.get('/console');
    const asked = await b.post('/console/access/close', { scope: 'citizens', 'reason-citizens': 'INC test' });
    const url = String(asked.headers.location);
    await b.get(url);
    const started = await postJson(b, `${url}/options`, { method: 'passkey' });
    const { options } = started.json<{ options: RequestOptions }>();
    const stranger = authenticatorFor(t);
    stranger.create({ challenge: 'x', rp: { name: 'x' }, user: { id: 'eA', name: 'x', displayName: 'x' } });
    const res = await postJson(b, `${url}/passkey`, { method: 'passkey', credential: stranger.get({ ...options, allowCredentials: [] }) });
    assert.equal(res.statusCode, 401);
    assert.equal((await readAccess(t.deps.db, 'citizens')).open, true);
  });
});
