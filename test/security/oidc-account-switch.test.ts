import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { onEachBackendListening } from '../support/suites.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, follow, HttpBrowser, logInThroughPages, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * A shared computer: Alice signs in to a service through Sésame and logs out of Sésame; Bruno
 * logs in on the same browser and signs in to the same service. The provider's own session
 * cookie still names Alice: Bruno must get his own identity at the service, keep his Sésame
 * session (not be logged out by Alice's leftover provider session), and Alice's name must not
 * appear in anything Bruno's sign-in produces.
 */
onEachBackendListening('oidc account switch in one browser', (s) => {
  const { t } = s;
  let rp: RelyingParty;
  let alice: Citizen;
  let bruno: Citizen;

  before(async () => {
    rp = await relyingParty(t, s.base, { name: 'Service', redirectUri: 'http://localhost:4131/callback', scopes: 'openid identite_pivot' });
    alice = await citizenWithPassword(t, { identity: { givenNames: 'Alice', familyName: 'Premier' } });
    bruno = await citizenWithPassword(t, { identity: { givenNames: 'Bruno', familyName: 'Second' } });
  });

  test("Bruno gets Bruno's identity, keeps his Sésame session, and Alice's session is not his", async () => {
    const b = new HttpBrowser(s.base);
    const first = await authorize(b, t, rp, alice, { scope: 'openid identite_pivot' });
    const aliceTokens = await oidc.authorizationCodeGrant(rp.config, first.end, { pkceCodeVerifier: first.verifier, expectedState: first.state, expectedNonce: first.nonce });
    const aliceSub = aliceTokens.claims()?.sub;
    await b.get('/account');
    assert.equal((await b.post('/logout', {})).status, 303);

    await follow(b, t, rp, bruno, await logInThroughPages(b, t, bruno), /^\/account/);
    const brunoSession = b.jar.get('__Host-sesame-session');
    assert.ok(brunoSession);
    const second = await authorize(b, t, rp, bruno, { scope: 'openid identite_pivot' });
    const tokens = await oidc.authorizationCodeGrant(rp.config, second.end, { pkceCodeVerifier: second.verifier, expectedState: second.state, expectedNonce: second.nonce });
    const sub = tokens.claims()?.sub ?? '';
    assert.notEqual(sub, aliceSub);
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, sub);
    assert.equal(info.given_name, 'Bruno');
    assert.equal(b.jar.get('__Host-sesame-session'), brunoSession, 'the same Sésame session: not logged out, not logged in twice');
    assert.equal((await b.get('/account')).status, 200);
  });
});
