import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addAuthenticator, listAuthenticators } from '../../src/auth/authenticators.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { onEachBackend } from '../support/suites.ts';
import type { TestApp } from '../support/app.ts';
import { recover } from '../support/flows.ts';
import { Browser, citizenWithPassword, logIn, mailsFor, type Citizen } from '../support/login.ts';

/**
 * The FranceConnect 2022 pattern: a phisher relays the password and the email code in real
 * time, gets an eidas1 session and adds their own authenticator (which cools off for 24 h).
 * The owner must be able to remove it at once without a step-up it cannot give, to add their
 * own, and a password reset must drop it.
 */
async function phished(t: TestApp): Promise<{ c: Citizen; owner: Browser; thief: Browser; planted: string }> {
  const c = await citizenWithPassword(t);
  const thief = new Browser(t);
  thief.ip = '198.51.100.66';
  await logIn(thief, c);
  // What the enrolment does from an eidas1 session: added, cooling off for a day.
  const planted = await citizen(t.deps.db, c.accountId, async (tx) =>
    (await addAuthenticator(tx, { ring: t.deps.ring, clock: t.deps.clock, policy: t.deps.config.auth }, { accountId: c.accountId, kind: 'passkey', name: 'Clé', fromStrongSession: false, locale: 'fr', client: { browser: null, os: null } })).id,
  );
  const owner = new Browser(t);
  await logIn(owner, c);
  return { c, owner, thief, planted };
}

const live = (t: TestApp, c: Citizen) => citizen(t.deps.db, c.accountId, (tx) => listAuthenticators(tx, t.deps.ring, c.accountId));

onEachBackend('an authenticator planted by a phisher', ({ t }) => {
  test('the owner removes it with a fresh email code, without a step-up, and the phisher’s session ends', async () => {
    const { c, owner, thief, planted } = await phished(t);
    await owner.get('/account/security');
    const res = await owner.post(`/account/security/authenticators/${planted}/remove`, {});
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/account/security?done=authenticator-removed');
    assert.deepEqual(await live(t, c), []);
    assert.equal((await thief.get('/account')).statusCode, 303, 'the phisher’s session ended');
    assert.equal((await owner.get('/account')).statusCode, 200);
    assert.equal((await mailsFor(t, c.accountId)).find((m) => m.template === 'authenticator-changed')?.params.change, 'removed');
  });

  test('while it cools off, the owner may add their own with an email code (no step-up through the planted one)', async () => {
    const { owner } = await phished(t);
    const page = await owner.get('/account/security/totp/new');
    assert.equal(page.statusCode, 200, 'the login’s fresh code is enough: the planted passkey cannot step up yet');
  });

  test('a password reset by email code removes what still cools off, and says so by mail', async () => {
    const { c, planted } = await phished(t);
    const done = await recover(new Browser(t), c, 'a whole new passphrase here');
    assert.equal(done.statusCode, 303);
    assert.deepEqual(await live(t, c), []);
    const removed = await system(t.deps.db, 'test', async (tx) => (await tx.query(`SELECT 1 FROM audit_log WHERE type = 'authenticator.removed' AND payload->>'authenticatorId' = $1`, [planted])).rows.length);
    assert.equal(removed, 1);
    const mail = (await mailsFor(t, c.accountId)).find((m) => m.template === 'authenticator-changed');
    assert.equal(mail?.params.change, 'removed');
  });
});
