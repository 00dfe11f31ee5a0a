import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { OIDC_RETURN_COOKIE } from '../../src/oidc/return-to.ts';
import { onEachBackendListening } from '../support/suites.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, logInThroughPages, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * The way back from /login to a service's sign-in (`__Host-sesame-oidc-return`) serves only the
 * login that interaction asked for: a login begun elsewhere later (the home page's link) ends
 * at the account, never at the sign-in the citizen left behind; and the cookie is gone once
 * the interaction is over.
 */
onEachBackendListening('oidc return cookie', (s) => {
  const { t } = s;
  let rp: RelyingParty;
  let c: Citizen;

  before(async () => {
    rp = await relyingParty(t, s.base, { name: 'Service', redirectUri: 'http://localhost:4501/callback', scopes: 'openid' });
    c = await citizenWithPassword(t);
  });

  test('a sign-in abandoned at the login page, then a login from the home page: the account, not the service', async () => {
    const b = new HttpBrowser(s.base);
    const abandoned = await authorize(b, t, rp, c, { scope: 'openid', stopAt: /^\/login$/ });
    assert.equal(abandoned.end.pathname, '/login');
    assert.equal(abandoned.end.search, '?service=1');
    assert.ok(b.jar.has(OIDC_RETURN_COOKIE), 'the way back is remembered for that login');
    // Later, the citizen opens Sésame's login page by its own link.
    const done = await logInThroughPages(b, t, c, '/login');
    assert.equal(b.jar.has(OIDC_RETURN_COOKIE), false);
    assert.equal(done.headers.get('location'), '/account');
  });

  test('the login the interaction asked for goes back to it; the cookie is gone afterwards', async () => {
    const b = new HttpBrowser(s.base);
    const attempt = await authorize(b, t, rp, c, { scope: 'openid' });
    assert.ok(attempt.end.searchParams.get('code'));
    assert.equal(b.jar.has(OIDC_RETURN_COOKIE), false);
    const tokens = await oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
    assert.ok(tokens.claims()?.sub);
  });

  test('two sign-ins started in turn: the login goes back to the latest one only', async () => {
    const b = new HttpBrowser(s.base);
    await authorize(b, t, rp, c, { scope: 'openid', stopAt: /^\/login$/ });
    const first = b.jar.get(OIDC_RETURN_COOKIE);
    const second = await authorize(b, t, rp, c, { scope: 'openid', stopAt: /^\/login$/ });
    const latest = b.jar.get(OIDC_RETURN_COOKIE);
    assert.ok(first && latest && first !== latest);
    const done = await logInThroughPages(b, t, c, `${second.end.pathname}${second.end.search}`);
    assert.equal(b.jar.has(OIDC_RETURN_COOKIE), false);
    assert.ok((done.headers.get('location') ?? '').includes(latest), 'back to the latest interaction');
  });
});
