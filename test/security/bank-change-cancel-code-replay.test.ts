import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { readBankDetails } from '../../src/file/projections/bank-details.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn, mailsFor } from '../support/login.ts';
import { pageText } from '../support/flows.ts';
import { citizenWithApp } from '../support/totp.ts';
import { testIban } from '../support/french-ibans.ts';
import { uniqueNir } from '../support/fixtures.ts';
import { agencyBankDetails, auditTypes, changeBankDetails, fileEvents } from '../support/contact-bank.ts';

/**
 * The public page that cancels a change of bank details with a NIR and a mailed code: a code
 * works once, for its own account, a few wrong tries at most; the page never tells whether a
 * NIR has a change held; one client cannot hammer it.
 */
onEachBackend('bank change cancel code replay', ({ t, tdb }) => {
  const PAGE = '/annuler-changement-bancaire';
  let ip = 0;
  const visitor = async (): Promise<Browser> => {
    const b = new Browser(t);
    b.ip = `192.0.2.${++ip}`;
    await b.get(PAGE);
    return b;
  };
  const pendingOf = async (accountId: string) => (await system(t.deps.db, 'test', (tx) => readBankDetails(tx, t.deps.ring, accountId, t.clock.now())))?.pending;

  async function held(): Promise<{ nir: string; accountId: string; code: string; b: Browser }> {
    const { c, secret } = await citizenWithApp(t);
    await agencyBankDetails(t, c.accountId, testIban(700 + ip));
    const b = new Browser(t);
    await logIn(b, c);
    assert.equal((await changeBankDetails(b, c, secret, { iban: testIban(800 + ip), holder: 'Camille Martin' })).statusCode, 303);
    const code = (await mailsFor(t, c.accountId)).find((m) => m.template === 'bank-details-changed')?.params.cancelCode;
    return { nir: c.nir, accountId: c.accountId, code: String(code), b };
  }
  const wrongCode = (code: string) => (code.startsWith('AAAAA') ? 'BBBBB-BBBBB' : 'AAAAA-AAAAA');

  test('replay: a code works once; the second use is refused and records nothing', async () => {
    const { nir, accountId, code } = await held();
    const owner = await visitor();
    assert.equal((await owner.post(PAGE, { nir, code })).statusCode, 200);
    const events = (await fileEvents(t, accountId)).length;
    const again = await visitor();
    const replay = await again.post(PAGE, { nir, code });
    assert.equal(replay.statusCode, 400);
    assert.match(replay.body, /Le changement n’a pas été annulé/);
    assert.equal((await fileEvents(t, accountId)).length, events);
  });

  test('guessing: after 10 wrong codes even the right one is refused, and the change stays held', async () => {
    const { nir, accountId, code, b: signedIn } = await held();
    for (let i = 0; i < 10; i++) {
      const b = await visitor();
      assert.equal((await b.post(PAGE, { nir, code: wrongCode(code) })).statusCode, 400);
    }
    const b = await visitor();
    const right = await b.post(PAGE, { nir, code });
    assert.equal(right.statusCode, 400);
    assert.equal(await pendingOf(accountId), true);
    const reasons = (await auditTypes(t, accountId, 'bank-details.cancel-refused')).map((a) => a.payload.reason);
    assert.deepEqual(reasons, [...Array<string>(9).fill('wrong'), 'exhausted', 'exhausted']);
    const { rows } = await tdb.superuser(`SELECT failures FROM bank_change_cancel_codes WHERE account_id = $1`, [accountId]);
    assert.equal((rows[0] as { failures: number }).failures, 10);
    // Whoever guessed has not locked the owner out: the change can still be cancelled from the account.
    const change = /name="change" value="([0-9a-f-]{36})"/.exec((await signedIn.get('/account/bank-details')).body)?.[1] ?? '';
    assert.equal((await signedIn.post('/account/bank-details/cancel', { change })).statusCode, 303);
  });

  test('a code is only good with its own NIR; an unknown NIR reads exactly like a wrong code', async () => {
    const victim = await held();
    const other = await citizenWithPassword(t);
    const withOtherNir = await (await visitor()).post(PAGE, { nir: other.nir, code: victim.code });
    assert.equal(withOtherNir.statusCode, 400);
    assert.equal(await pendingOf(victim.accountId), true);
    const unknown = await (await visitor()).post(PAGE, { nir: uniqueNir(), code: victim.code });
    const wrong = await (await visitor()).post(PAGE, { nir: victim.nir, code: wrongCode(victim.code) });
    assert.equal(unknown.statusCode, wrong.statusCode);
    // The NIR typed comes back in the field; apart from it, the two pages are the same.
    const strip = (body: string) => pageText(body).replace(/name="nir" type="text" value="[^"]*"/, '');
    assert.equal(strip(unknown.body), strip(wrong.body));
  });

  test('a change cancelled from the account takes its code with it', async () => {
    const { nir, accountId, code, b } = await held();
    const change = /name="change" value="([0-9a-f-]{36})"/.exec((await b.get('/account/bank-details')).body)?.[1] ?? '';
    assert.equal((await b.post('/account/bank-details/cancel', { change })).statusCode, 303);
    const res = await (await visitor()).post(PAGE, { nir, code });
    assert.equal(res.statusCode, 400);
    assert.equal((await fileEvents(t, accountId)).filter((e) => e.type === 'event.cancelled').length, 1);
  });

  test('one client cannot hammer the page: past the budget of the NIR pages, it is refused for a while', async () => {
    const b = await visitor();
    let last = 0;
    for (let i = 0; i < t.deps.config.auth.ipMaxFailures + 1; i++) last = (await b.post(PAGE, { nir: uniqueNir(), code: 'AAAAA-AAAAA' })).statusCode;
    assert.equal(last, 429);
    const res = await b.post(PAGE, { nir: uniqueNir(), code: 'AAAAA-AAAAA' });
    assert.match(res.body, /Trop de demandes ont été faites depuis votre connexion/);
    assert.ok(Number(res.headers['retry-after']) > 0);
  });
});
