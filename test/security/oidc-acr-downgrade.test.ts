import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { onEachBackendListening } from '../support/suites.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { appCode, citizenWithApp } from '../support/totp.ts';
import { authorize, follow, HttpBrowser, logInThroughPages, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * acr downgrade in the request: a service asks `eidas2` of a citizen whose session is eidas1
 * (password + email code). The provider must not answer with an eidas1 ID token: the citizen
 * goes through our step-up, and a request that cannot show a page (prompt=none) gets an error,
 * never a code. An unknown acr value counts as the client's default, never as lower.
 */
onEachBackendListening('oidc acr downgrade', (s) => {
  const { t } = s;
  let rp: RelyingParty;
  let strictRp: RelyingParty;
  let c: Citizen;
  let browser: HttpBrowser;

  before(async () => {
    rp = await relyingParty(t, s.base, { name: 'Service', redirectUri: 'http://localhost:4101/callback', scopes: 'openid' });
    strictRp = await relyingParty(t, s.base, { name: 'Service strict', redirectUri: 'http://localhost:4102/callback', scopes: 'openid', acrMin: 'eidas2' });
    c = await citizenWithPassword(t);
    browser = new HttpBrowser(s.base);
    // An eidas1 session, and the service's consent, first.
    const first = await authorize(browser, t, rp, c, { scope: 'openid' });
    const tokens = await oidc.authorizationCodeGrant(rp.config, first.end, { pkceCodeVerifier: first.verifier, expectedState: first.state, expectedNonce: first.nonce });
    assert.equal(tokens.claims()?.acr, 'eidas1');
  });

  test('acr_values=eidas2 with an eidas1 session: our step-up, no code', async () => {
    const attempt = await authorize(browser, t, rp, c, { scope: 'openid', params: { acr_values: 'eidas2' }, stopAt: /^\/step-up\// });
    assert.match(attempt.end.pathname, /^\/step-up\/[0-9a-f-]{36}$/);
  });

  /**
   * A citizen with an authenticator app past its cooling-off (at the real time the provider
   * reads), logged in by password + mailed code, then asked eidas2 by the service: the step-up
   * by password + app, back through the page that ends the form post's redirect chain
   * (src/oidc/back-to-service.ts). Returns the service's validated ID token claims.
   */
  async function eidas2SignIn(): Promise<{ b: HttpBrowser; strong: Citizen; claims: oidc.IDToken | undefined }> {
    t.clock.set(new Date(Date.now() - 24 * 3600 * 1000 - 120_000));
    const { c: strong, secret } = await citizenWithApp(t);
    const b = new HttpBrowser(s.base);
    await follow(b, t, rp, strong, await logInThroughPages(b, t, strong), /^\/account/);
    const asked = await authorize(b, t, rp, strong, { scope: 'openid', params: { acr_values: 'eidas2' }, stopAt: /^\/step-up\// });
    const stepUp = asked.end.pathname;
    await b.get(stepUp);
    assert.equal((await b.post(stepUp, { method: 'password', password: strong.password })).status, 303);
    await b.get(`${stepUp}/totp`);
    const done = await b.post(`${stepUp}/totp`, { method: 'totp', code: appCode(secret, t.clock) });
    assert.equal(done.status, 303);
    assert.match(done.headers.get('location') ?? '', /^\/oidc\/continue\/[A-Za-z0-9_-]+$/);
    const back = await follow(b, t, rp, strong, done);
    const tokens = await oidc.authorizationCodeGrant(rp.config, back.end, { pkceCodeVerifier: asked.verifier, expectedState: asked.state, expectedNonce: asked.nonce });
    return { b, strong, claims: tokens.claims() };
  }

  test('the step-up done (password + app), the service gets an eidas2 ID token', async () => {
    const { claims } = await eidas2SignIn();
    assert.equal(claims?.acr, 'eidas2');
    assert.deepEqual([...((claims?.amr as string[] | undefined) ?? [])].sort(), ['mfa', 'otp', 'pwd']);
  });

  test("a later eidas1 login in the same browser never inherits an earlier session's eidas2 at the services", async () => {
    // An eidas2 sign-in to a service (password + app), then a logout of Sésame; whoever logs in
    // next in this browser with password + mailed code is eidas1, whatever the provider's own
    // session cookie remembers.
    const { b, strong, claims: first } = await eidas2SignIn();
    assert.equal(first?.acr, 'eidas2');
    // Logged out of Sésame (the provider's session cookie stays), then an eidas1 login.
    await b.get('/account');
    assert.equal((await b.post('/logout', {})).status, 303);
    await follow(b, t, rp, strong, await logInThroughPages(b, t, strong), /^\/account/);
    const silent = await authorize(b, t, rp, strong, { scope: 'openid', params: { acr_values: 'eidas2', prompt: 'none' } });
    assert.equal(silent.end.searchParams.get('code'), null, 'no eidas2 code from the old provider session');
    assert.equal(silent.end.searchParams.get('error'), 'login_required');
    const again = await authorize(b, t, rp, strong, { scope: 'openid', params: { acr_values: 'eidas2' }, stopAt: /^\/step-up\// });
    assert.match(again.end.pathname, /^\/step-up\//, 'a step-up, as for any eidas1 session');
    const plain = await authorize(b, t, rp, strong, { scope: 'openid' });
    const claims = (await oidc.authorizationCodeGrant(rp.config, plain.end, { pkceCodeVerifier: plain.verifier, expectedState: plain.state, expectedNonce: plain.nonce })).claims();
    assert.equal(claims?.acr, 'eidas1');
    assert.deepEqual([...((claims?.amr as string[] | undefined) ?? [])].sort(), ['mail', 'pwd']);
  });

  test('acr_values=eidas2 and prompt=none: an error to the service, never an eidas1 code', async () => {
    const attempt = await authorize(browser, t, rp, c, { scope: 'openid', params: { acr_values: 'eidas2', prompt: 'none' } });
    assert.equal(attempt.end.searchParams.get('code'), null);
    assert.equal(attempt.end.searchParams.get('error'), 'login_required');
  });

  test('a client whose minimum is eidas2, asking eidas1 or an unknown value: still a step-up', async () => {
    for (const acr of ['eidas1', 'eidas0', 'eidas1 eidas2']) {
      const attempt = await authorize(browser, t, strictRp, c, { scope: 'openid', params: { acr_values: acr }, stopAt: /^\/step-up\// });
      assert.match(attempt.end.pathname, /^\/step-up\//, acr);
    }
  });
});
