import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/crypto/random.ts';
import { system } from '../../src/db/contexts.ts';
import { readEvents } from '../../src/file/events.ts';
import type { TestApp } from '../support/app.ts';
import { testIban } from '../support/french-ibans.ts';
import { accountRows, carriesNothingOf, formField, sameAsUnknown, victimAndAttacker, type Party } from '../support/idor.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * IDOR on file events: cancelling a held change of bank details names the change (its file
 * event id) in the form. An attacker who puts the victim's event id there — to undo the
 * victim's legitimate change, or to learn whether the id exists — gets the answer of an id
 * that exists nowhere; the victim's change stays held, and the attacker's own held change,
 * if any, is not cancelled in its place.
 */

/** Declares new bank details from the party's fresh eidas2 session; returns the change's event id. */
async function changeBankDetails(p: Party, iban: string): Promise<string> {
  const page = await p.b.get('/account/bank-details');
  assert.equal(page.statusCode, 200);
  const res = await p.b.post('/account/bank-details', { shown: formField(page.body, '/account/bank-details', 'shown'), iban, holder: `${p.c.givenNames} ${p.c.familyName}` });
  assert.equal(res.statusCode, 303, 'change accepted without a step-up (fresh eidas2)');
  const after = await p.b.get('/account/bank-details');
  return formField(after.body, '/account/bank-details/cancel', 'change');
}

const bankEvents = async (t: TestApp, accountId: string): Promise<string[][]> =>
  system(t.deps.db, 'test', async (tx) => (await readEvents(tx, t.deps.ring, accountId)).filter((e) => e.type === 'bank-details.changed' || e.type === 'event.cancelled').map((e) => [e.type, e.id]));

onEachBackend('IDOR: cancelling another citizen’s bank details change', ({ t, tdb }) => {
  test('the victim’s change event id: same answer as an unknown id, the change stays held', async () => {
    const { victim, attacker } = await victimAndAttacker(t);
    const victimChange = await changeBankDetails(victim, testIban(424242));
    const before = await accountRows(tdb, victim.c.accountId);

    await attacker.b.get('/account/bank-details');
    const unknown = await attacker.b.post('/account/bank-details/cancel', { change: newId() });
    await attacker.b.get('/account/bank-details');
    const attack = await attacker.b.post('/account/bank-details/cancel', { change: victimChange });
    sameAsUnknown(attack, unknown, 'cancelling the victim’s change');
    carriesNothingOf(attack, victim.c);

    assert.deepEqual(await accountRows(tdb, victim.c.accountId), before, 'none of the victim’s rows changed');
    const page = await victim.b.get('/account/bank-details');
    assert.equal(formField(page.body, '/account/bank-details/cancel', 'change'), victimChange, 'the victim’s change is still held');
  });

  test('an attacker with a held change of their own: the victim’s id cancels neither change', async () => {
    const { victim, attacker } = await victimAndAttacker(t);
    const victimChange = await changeBankDetails(victim, testIban(535353));
    const ownChange = await changeBankDetails(attacker, testIban(646464));
    const victimBefore = await accountRows(tdb, victim.c.accountId);
    const attackerEvents = await bankEvents(t, attacker.c.accountId);

    await attacker.b.get('/account/bank-details');
    const attack = await attacker.b.post('/account/bank-details/cancel', { change: victimChange });
    assert.ok(attack.statusCode >= 400, `refused (${attack.statusCode})`);
    assert.deepEqual(await accountRows(tdb, victim.c.accountId), victimBefore, 'none of the victim’s rows changed');
    assert.deepEqual(await bankEvents(t, attacker.c.accountId), attackerEvents, 'the attacker’s own change was not cancelled instead');
    // The attacker's own id still works: the refusal was about the id, not a broken form.
    await attacker.b.get('/account/bank-details');
    assert.equal((await attacker.b.post('/account/bank-details/cancel', { change: ownChange })).statusCode, 303);
  });
});
