import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addAuthenticator, listAuthenticators } from '../../src/auth/authenticators.ts';
import { newId } from '../../src/crypto/random.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { accountRows, carriesNothingOf, sameAsUnknown, victimAndAttacker } from '../support/idor.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * IDOR on authenticators: a citizen who knows (or guesses) the id of another citizen's
 * passkey, app or approval phone asks to remove it. The attacker's own session is eidas2 and
 * fresh, so no step-up is in the way: the route itself answers as for an id that exists
 * nowhere, and the victim keeps every authenticator (no mail, no audit event either).
 */
onEachBackend('IDOR: removing another citizen’s authenticator', ({ t, tdb }) => {
  test('each kind of the victim’s authenticators: 404 like an unknown id, nothing changed', async () => {
    const { victim, attacker } = await victimAndAttacker(t);
    const extra = await system(t.deps.db, 'test', async (tx) => {
      const deps = { ring: t.deps.ring, clock: t.deps.clock, policy: t.deps.config.auth };
      const common = { accountId: victim.c.accountId, fromStrongSession: true, locale: 'fr' as const, client: { browser: null, os: null } };
      const passkey = await addAuthenticator(tx, deps, { ...common, kind: 'passkey', name: 'Clé de Victoire' });
      const device = await addAuthenticator(tx, deps, { ...common, kind: 'device', name: 'Téléphone de Victoire' });
      return [passkey.id, device.id];
    });
    const theirs = await citizen(t.deps.db, victim.c.accountId, (tx) => listAuthenticators(tx, t.deps.ring, victim.c.accountId));
    assert.deepEqual(new Set(theirs.map((a) => a.kind)), new Set(['totp', 'passkey', 'device']));
    assert.ok(extra.every((id) => theirs.some((a) => a.id === id)));
    const before = await accountRows(tdb, victim.c.accountId);

    await attacker.b.get('/account/security');
    const unknown = await attacker.b.post(`/account/security/authenticators/${newId()}/remove`, {});
    assert.equal(unknown.statusCode, 404, 'an unknown id is not found');
    for (const a of theirs) {
      await attacker.b.get('/account/security');
      const res = await attacker.b.post(`/account/security/authenticators/${a.id}/remove`, {});
      sameAsUnknown(res, unknown, `removing the victim’s ${a.kind}`);
      carriesNothingOf(res, victim.c, [a.name]);
    }

    assert.deepEqual(await accountRows(tdb, victim.c.accountId), before, 'none of the victim’s rows changed');
    // And the attacker's own session was not raised, ended or moved by it.
    assert.equal((await attacker.b.get('/account/security')).statusCode, 200);
  });

  test('the same from an eidas1 session: the answer does not tell the victim’s id from an unknown one', async () => {
    const { victim, attacker } = await victimAndAttacker(t);
    const [target] = await citizen(t.deps.db, victim.c.accountId, (tx) => listAuthenticators(tx, t.deps.ring, victim.c.accountId));
    assert.ok(target);
    // Past the step-up's few minutes: the sensitive gate asks again.
    t.clock.advance(10 * 60 * 1000);
    await attacker.b.get('/account/security');
    const unknown = await attacker.b.post(`/account/security/authenticators/${newId()}/remove`, {});
    await attacker.b.get('/account/security');
    const res = await attacker.b.post(`/account/security/authenticators/${target.id}/remove`, {});
    sameAsUnknown(res, unknown, 'the victim’s app, before a step-up');
    const left = await citizen(t.deps.db, victim.c.accountId, (tx) => listAuthenticators(tx, t.deps.ring, victim.c.accountId));
    assert.deepEqual(left.map((a) => a.id), [target.id]);
  });
});
