import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/crypto/random.ts';
import { system } from '../../src/db/contexts.ts';
import { Browser, logIn } from '../support/login.ts';
import { accountRows, sameAsUnknown, victimAndAttacker } from '../support/idor.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * IDOR on sessions: "end this session" takes the session's id. An attacker who learns the
 * id of a victim's session (a log, a shoulder) posts it to log the victim out (a nuisance,
 * or to make them log in again on a phishing page). The answer is the one for an unknown id,
 * the victim's sessions all stay live, and the security page never lists them to the attacker.
 */
onEachBackend('IDOR: ending another citizen’s session', ({ t, tdb }) => {
  const liveSessions = (accountId: string) =>
    system(t.deps.db, 'test', async (tx) => {
      // Live: not ended, nor idle too long (the enrolment's session of a day ago is neither listed nor usable).
      const idleSince = new Date(t.clock.now().getTime() - t.deps.config.auth.sessionIdle * 1000);
      const { rows } = await tx.query<{ id: string }>(`SELECT id FROM sessions WHERE account_id = $1 AND ended_at IS NULL AND last_seen_at > $2 ORDER BY id`, [accountId, idleSince]);
      return rows.map((r) => r.id);
    });

  test('each of the victim’s sessions: 404 like an unknown id, all still live', async () => {
    const { victim, attacker } = await victimAndAttacker(t);
    const laptop = new Browser(t);
    await logIn(laptop, victim.c);
    const sessions = await liveSessions(victim.c.accountId);
    assert.equal(sessions.length, 2);
    const before = await accountRows(tdb, victim.c.accountId);

    const page = await attacker.b.get('/account/security');
    for (const id of sessions) assert.ok(!page.body.includes(id), 'the attacker’s page lists none of the victim’s sessions');
    const unknown = await attacker.b.post(`/account/security/sessions/${newId()}/end`, {});
    assert.equal(unknown.statusCode, 404);
    for (const id of sessions) {
      await attacker.b.get('/account/security');
      sameAsUnknown(await attacker.b.post(`/account/security/sessions/${id}/end`, {}), unknown, 'ending the victim’s session');
    }

    assert.deepEqual(await liveSessions(victim.c.accountId), sessions);
    assert.deepEqual(await accountRows(tdb, victim.c.accountId), before, 'none of the victim’s rows changed');
    assert.equal((await victim.b.get('/account')).statusCode, 200);
    assert.equal((await laptop.get('/account')).statusCode, 200);
  });

  test('the attacker’s own other session still ends (the refusal is about the id)', async () => {
    const { attacker } = await victimAndAttacker(t);
    const other = new Browser(t);
    await logIn(other, attacker.c);
    assert.equal((await liveSessions(attacker.c.accountId)).length, 2);
    const page = await attacker.b.get('/account/security');
    const otherId = [...page.body.matchAll(/\/account\/security\/sessions\/([0-9a-f-]{36})\/end/g)].map((m) => m[1])[0];
    assert.ok(otherId, 'the other session is listed with its form');
    assert.equal((await attacker.b.post(`/account/security/sessions/${otherId}/end`, {})).statusCode, 303);
    assert.equal((await other.get('/account')).statusCode, 303, 'the other browser is logged out');
  });
});
