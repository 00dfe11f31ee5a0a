import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { backends } from '../support/databases.ts';
import { Browser, lastCode, logIn, submitPassword } from '../support/login.ts';
import { operatorBench, rebind, saveTestCohort, type OperatorBench } from '../support/operator-bench.ts';
import { appCode, citizenWithApp, enrolApp } from '../support/totp.ts';

/**
 * Someone who held a citizen's password and mailbox during an incident keeps what they got:
 * a session raised to eidas2 with an authenticator app they added, a login half done with the
 * old password. After `incident reset-credentials --apply`, none of it works: the session is
 * ended (level and all), the app is removed, the login in progress is over, and the password
 * they know is refused.
 */
for (const backend of backends()) {
  describe(`stale session after an incident reset on ${backend.name}`, { skip: backend.skip }, () => {
    let bench: OperatorBench;
    before(async () => {
      bench = await operatorBench(backend, 'stale-session');
      assert.equal((await bench.cli(['incident', 'open', '--title', 'Incident', '--detected-at', '2026-01-01T00:00:00Z'])).code, 0);
    });
    after(() => bench.close());

    test('an eidas2 session, the app it added and a login in progress with the old password all die with the reset', async () => {
      const kept = await bench.withApp(async (t) => {
        const { c, secret } = await citizenWithApp(t);
        const from = t.clock.now();
        t.clock.advance(60_000);
        const intruder = new Browser(t);
        intruder.ip = '192.0.2.66';
        await logIn(intruder, c);
        const gate = await intruder.get('/account/security/totp/new');
        const stepUp = String(gate.headers.location);
        await intruder.get(stepUp);
        await intruder.post(stepUp, { method: 'password', password: c.password });
        await intruder.get(`${stepUp}/totp`);
        t.clock.advance(1000);
        assert.equal((await intruder.post(`${stepUp}/totp`, { method: 'totp', code: appCode(secret, t.clock) })).statusCode, 303);
        const theirs = await enrolApp(intruder, 'Téléphone inconnu');
        const level = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ level: string }>(`SELECT level FROM sessions WHERE account_id = $1 AND ended_at IS NULL ORDER BY created_at DESC LIMIT 1`, [c.accountId])).rows[0]?.level);
        assert.equal(level, 'eidas2', 'the intruder’s session is strong');
        // A second login, half done: password accepted, code sent.
        const pending = new Browser(t);
        pending.ip = '192.0.2.67';
        const flow = await submitPassword(pending, c);
        assert.equal((await pending.post(`${flow}/send`, { method: 'email-code' })).statusCode, 303);
        await pending.get(flow);
        const code = await lastCode(t, c.accountId);
        await saveTestCohort(t, { from, to: new Date(t.clock.now().getTime() + 60_000), members: [{ accountId: c.accountId, categories: ['touched-by-others'] }] });
        return { c, intruder, pending, flow, code, codePage: pending.lastPage, theirSecret: theirs.secret };
      });

      const reset = await bench.cli(['incident', 'reset-credentials', '--cohort', '--apply']);
      assert.equal(reset.code, 0, reset.stderr);

      await bench.withApp(async (t) => {
        const intruder = rebind(kept.intruder, t);
        for (const url of ['/account', '/account/security', '/account/bank-details']) {
          const res = await intruder.get(url);
          assert.equal(res.statusCode, 303, url);
          assert.equal(res.headers.location, '/login', url);
        }
        const live = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM sessions WHERE account_id = $1 AND ended_at IS NULL`, [kept.c.accountId])).rows[0]?.n);
        assert.equal(live, 0);
        const removed = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ removed: boolean }>(`SELECT a.removed_at IS NOT NULL AS removed FROM authenticators a ORDER BY a.created_at DESC LIMIT 1`)).rows[0]?.removed);
        assert.equal(removed, true, 'the app they added is gone');

        const pending = rebind(kept.pending, t);
        const late = await pending.post(kept.flow, { method: 'email-code', code: kept.code }, kept.codePage);
        assert.equal(late.statusCode, 410, 'the login started with the old password is over');
        assert.equal((await pending.get('/account')).statusCode, 303);

        const again = new Browser(t);
        again.ip = '192.0.2.68';
        await again.get('/login');
        const refused = await again.post('/login', { method: 'password', nir: kept.c.nir, password: kept.c.password });
        assert.equal(refused.statusCode, 401, 'the password they know is refused');
        assert.match(refused.body, /Mot de passe oublié/);
      });
    });
  });
}
