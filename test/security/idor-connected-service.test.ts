import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { system } from '../../src/db/contexts.ts';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { accountRows } from '../support/idor.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, listeningApp, logInThroughPages, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

const userinfoStatus = async (base: string, accessToken: string): Promise<number> => (await fetch(`${base}/oidc/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;

/**
 * IDOR on connected services: "Retirer l'accès" takes the service's client id, which is no
 * secret (it is in every authorisation URL of the service). An attacker logged in to their own
 * account posts the client id of a service the victim uses, to cut the victim off from it (and
 * make them consent again on a page the attacker may imitate). The answer is the one for a
 * service the attacker never used, the victim's consent and tokens are untouched, and the
 * attacker's page never lists the victim's services. The attacker's own consent to the same
 * service goes, and only theirs.
 */
for (const backend of backends()) {
  describe(`IDOR: withdrawing another citizen’s consent to a service on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let training: RelyingParty;
    let tax: RelyingParty;
    let victim: Citizen;
    let attacker: Citizen;
    let victimBrowser: HttpBrowser;
    let attackerBrowser: HttpBrowser;
    let victimToken = '';

    const signIn = async (b: HttpBrowser, rp: RelyingParty, c: Citizen): Promise<{ consentPages: number; accessToken: string }> => {
      const attempt = await authorize(b, t, rp, c, { scope: 'openid email' });
      const tokens = await oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
      return { consentPages: attempt.consentPages.length, accessToken: tokens.access_token };
    };
    const consents = async (accountId: string): Promise<string[]> =>
      (await system(t.deps.db, 'test', (tx) => tx.query<{ client_id: string }>(`SELECT client_id FROM oidc_consents WHERE account_id = $1 ORDER BY client_id`, [accountId]))).rows.map((r) => r.client_id);

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb));
      training = await relyingParty(t, base, { name: 'Mon compte formation', redirectUri: 'http://localhost:4001/callback', scopes: 'openid email' });
      tax = await relyingParty(t, base, { name: 'Impôts', redirectUri: 'http://localhost:4002/callback', scopes: 'openid email' });
      victim = await citizenWithPassword(t, { identity: { givenNames: 'Victoire', familyName: 'Lavictime' } });
      attacker = await citizenWithPassword(t, { identity: { givenNames: 'Arsène', familyName: 'Lattaquant' } });
      victimBrowser = new HttpBrowser(base);
      attackerBrowser = new HttpBrowser(base);
      victimToken = (await signIn(victimBrowser, training, victim)).accessToken;
      await logInThroughPages(attackerBrowser, t, attacker);
    });
    after(async () => {
      await t?.close();
      await tdb?.close();
    });

    test('the victim’s service: 404 like a service never used, the victim’s consent and token untouched', async () => {
      assert.deepEqual(await consents(victim.accountId), [training.clientId]);
      const before = await accountRows(tdb, victim.accountId);

      const page = await attackerBrowser.get('/account/security');
      assert.equal(page.status, 200);
      assert.equal(attackerBrowser.lastPage.includes(training.clientId), false, 'the attacker’s page lists none of the victim’s services');
      assert.equal(attackerBrowser.lastPage.includes('Mon compte formation'), false);

      const unknown = await attackerBrowser.post(`/account/security/connected-services/${'u'.repeat(22)}/revoke`, {});
      assert.equal(unknown.status, 404);
      const unknownBody = await unknown.text();
      await attackerBrowser.get('/account/security');
      const attack = await attackerBrowser.post(`/account/security/connected-services/${training.clientId}/revoke`, {});
      assert.equal(attack.status, unknown.status);
      assert.equal(await attack.text(), unknownBody, 'the same answer as for an unknown service: no oracle');
      await attackerBrowser.get('/account/security');
      assert.equal((await attackerBrowser.post(`/account/security/connected-services/${encodeURIComponent("' OR 1=1 --")}/revoke`, {})).status, 404);

      assert.deepEqual(await consents(victim.accountId), [training.clientId]);
      assert.deepEqual(await accountRows(tdb, victim.accountId), before, 'none of the victim’s rows changed');
      assert.equal(await userinfoStatus(base, victimToken), 200, 'the victim’s service still gets its data');
      const again = await signIn(victimBrowser, training, victim);
      assert.equal(again.consentPages, 0, 'the victim is not asked to consent again');
      victimToken = again.accessToken;
    });

    test('a service both use: the attacker withdraws their own consent only', async () => {
      const attackerSide = await signIn(attackerBrowser, training, attacker);
      assert.equal(attackerSide.consentPages, 1);
      const own = await signIn(attackerBrowser, tax, attacker);
      assert.deepEqual(await consents(attacker.accountId), [training.clientId, tax.clientId].sort());

      await attackerBrowser.get('/account/security');
      const res = await attackerBrowser.post(`/account/security/connected-services/${training.clientId}/revoke`, {});
      assert.equal(res.status, 303);
      assert.deepEqual(await consents(attacker.accountId), [tax.clientId]);
      assert.equal(await userinfoStatus(base, attackerSide.accessToken), 401, 'the attacker’s token for it is revoked');
      assert.equal(await userinfoStatus(base, own.accessToken), 200, 'their other service keeps its token');

      assert.deepEqual(await consents(victim.accountId), [training.clientId]);
      assert.equal(await userinfoStatus(base, victimToken), 200, 'the victim’s token for the same service still works');
    });

    test('without a session: back to /login, nothing withdrawn', async () => {
      const anonymous = new HttpBrowser(base);
      await anonymous.get('/login');
      const res = await anonymous.post(`/account/security/connected-services/${training.clientId}/revoke`, {});
      assert.equal(res.status, 303);
      assert.equal(new URL(res.headers.get('location') ?? '', base).pathname, '/login');
      assert.deepEqual(await consents(victim.accountId), [training.clientId]);
    });
  });
}
