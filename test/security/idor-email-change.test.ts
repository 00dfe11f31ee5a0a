import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/crypto/random.ts';
import { accountRows, carriesNothingOf, sameAsUnknown, victimAndAttacker } from '../support/idor.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * IDOR on a change of email address: its confirmation page, code and resend take the flow's
 * id in the URL. An attacker with the victim's flow id tries to read the page (it names the
 * new address), to type codes (spending the victim's attempts, or confirming an address of
 * their choosing) or to have codes resent. Each answer is the one for an id that exists
 * nowhere, and the victim's flow is untouched: no attempt counted, no code sent.
 */
onEachBackend('IDOR: another citizen’s change of email address', ({ t, tdb }) => {
  test('page, code and resend of the victim’s flow: same answers as an unknown flow, nothing changed', async () => {
    const { victim, attacker } = await victimAndAttacker(t);
    const newAddress = 'victoire.nouvelle@example.fr';
    await victim.b.get('/account/contact');
    const started = await victim.b.post('/account/contact/email', { email: newAddress });
    assert.equal(started.statusCode, 303);
    const flow = String(started.headers.location);
    assert.match(flow, /^\/account\/contact\/email\/[0-9a-f-]{36}$/);
    assert.equal((await victim.b.get(flow)).statusCode, 200);
    t.clock.advance(1000);
    const before = await accountRows(tdb, victim.c.accountId);

    const unknownFlow = `/account/contact/email/${newId()}`;
    const asks = [
      { what: 'the confirmation page', send: (url: string) => attacker.b.get(url) },
      { what: 'a code', send: (url: string) => attacker.b.post(url, { method: 'email-code', code: '123456' }) },
      { what: 'a resend', send: (url: string) => attacker.b.post(`${url}/send`, { method: 'email-code' }) },
    ];
    for (const ask of asks) {
      await attacker.b.get('/account/contact');
      const unknown = await ask.send(unknownFlow);
      await attacker.b.get('/account/contact');
      const attack = await ask.send(flow);
      sameAsUnknown(attack, unknown, ask.what);
      carriesNothingOf(attack, victim.c, [newAddress]);
    }

    assert.deepEqual(await accountRows(tdb, victim.c.accountId), before, 'none of the victim’s rows changed');
    const page = await victim.b.get(flow);
    assert.equal(page.statusCode, 200, 'the victim’s change goes on');
  });
});
