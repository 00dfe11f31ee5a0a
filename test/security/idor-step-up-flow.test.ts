import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/crypto/random.ts';
import { testIban } from '../support/french-ibans.ts';
import { accountRows, carriesNothingOf, formField, sameAsUnknown, victimAndAttacker } from '../support/idor.ts';
import { postJson } from '../support/passkeys.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * IDOR on step-up flows: a change of bank details waiting for its step-up keeps the form
 * (the new IBAN) in the flow, whose id is in the URL. An attacker with that id opens the
 * flow's page, types their own password into it or asks it for passkey options — to finish
 * the victim's step-up in their own session, or to read the kept form. Every answer is the
 * one for a flow that exists nowhere, and the victim's flow and file are untouched.
 */
onEachBackend('IDOR: another citizen’s step-up flow', ({ t, tdb }) => {
  test('page and password of the victim’s step-up: as for an unknown flow, nothing changed', async () => {
    const { victim, attacker } = await victimAndAttacker(t);
    // Past the few minutes a step-up lasts: the victim's change asks for one.
    t.clock.advance(10 * 60 * 1000);
    const iban = testIban(818181);
    const page = await victim.b.get('/account/bank-details');
    const asked = await victim.b.post('/account/bank-details', { shown: formField(page.body, '/account/bank-details', 'shown'), iban, holder: 'Victoire Lavictime' });
    const flow = String(asked.headers.location);
    assert.match(flow, /^\/step-up\/[0-9a-f-]{36}$/);
    assert.equal((await victim.b.get(flow)).statusCode, 200);
    const before = await accountRows(tdb, victim.c.accountId);

    const unknownFlow = `/step-up/${newId()}`;
    const asks = [
      { what: 'the step-up page', send: (url: string) => attacker.b.get(url) },
      { what: 'the attacker’s password typed into it', send: (url: string) => attacker.b.post(url, { method: 'password', password: attacker.c.password }) },
    ];
    for (const ask of asks) {
      await attacker.b.get('/account');
      const unknown = await ask.send(unknownFlow);
      await attacker.b.get('/account');
      const attack = await ask.send(flow);
      sameAsUnknown(attack, unknown, ask.what);
      carriesNothingOf(attack, victim.c, [iban, iban.slice(-4)]);
    }

    assert.deepEqual(await accountRows(tdb, victim.c.accountId), before, 'none of the victim’s rows changed');
    assert.equal((await victim.b.get(flow)).statusCode, 200, 'the victim’s step-up goes on');
  });

  // Found by this test: another browser's flow used to answer 409 where an unknown one
  // answered 404, which told the attacker the flow existed.
  test('passkey options of the victim’s step-up: as for an unknown flow', async () => {
    const { victim, attacker } = await victimAndAttacker(t);
    t.clock.advance(10 * 60 * 1000);
    const page = await victim.b.get('/account/bank-details');
    const asked = await victim.b.post('/account/bank-details', { shown: formField(page.body, '/account/bank-details', 'shown'), iban: testIban(828282), holder: 'Victoire Lavictime' });
    const flow = String(asked.headers.location);
    assert.match(flow, /^\/step-up\/[0-9a-f-]{36}$/);
    const before = await accountRows(tdb, victim.c.accountId);
    await attacker.b.get('/account');
    const unknown = await postJson(attacker.b, `/step-up/${newId()}/passkey/options`, { method: 'passkey' });
    const attack = await postJson(attacker.b, `${flow}/passkey/options`, { method: 'passkey' });
    assert.deepEqual(await accountRows(tdb, victim.c.accountId), before, 'none of the victim’s rows changed');
    assert.equal(attack.statusCode, unknown.statusCode, 'answered as an unknown flow');
    assert.deepEqual(attack.json(), unknown.json());
  });
});
