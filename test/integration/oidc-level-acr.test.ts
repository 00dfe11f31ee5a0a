import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { onEachBackendListening } from '../support/suites.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * The requested level in the real flow (openid-client, our pages): eidas3 is refused with a
 * clear description before any login page; an unknown acr value is the client's default, never
 * lower; and preferred_username, the usage name, released only for a citizen who has one.
 */
onEachBackendListening('oidc requested level and claims', (s) => {
  const { t } = s;
  let plain: RelyingParty;
  let strictDefault: RelyingParty;
  let profile: RelyingParty;
  let c: Citizen;
  let browser: HttpBrowser;

  before(async () => {
    plain = await relyingParty(t, s.base, { name: 'Service', redirectUri: 'http://localhost:4401/callback', scopes: 'openid' });
    strictDefault = await relyingParty(t, s.base, { name: 'Service exigeant', redirectUri: 'http://localhost:4402/callback', scopes: 'openid', acrMin: 'eidas1', acrDefault: 'eidas2' });
    profile = await relyingParty(t, s.base, { name: 'Service profil', redirectUri: 'http://localhost:4403/callback', scopes: 'openid profile preferred_username' });
    c = await citizenWithPassword(t);
    browser = new HttpBrowser(s.base);
    const first = await authorize(browser, t, plain, c, { scope: 'openid' });
    assert.ok(first.end.searchParams.get('code'));
  });

  test('acr_values=eidas3: access_denied to the service, with a description, before any login page', async () => {
    const fresh = new HttpBrowser(s.base);
    const attempt = await authorize(fresh, t, plain, c, { scope: 'openid', params: { acr_values: 'eidas3' }, stopAt: /^\/(login|step-up)/ });
    assert.equal(`${attempt.end.origin}${attempt.end.pathname}`, plain.redirectUri);
    assert.equal(attempt.end.searchParams.get('error'), 'access_denied');
    assert.match(attempt.end.searchParams.get('error_description') ?? '', /eidas3 is not available/);
    assert.equal(attempt.end.searchParams.get('state'), attempt.state);
    // With a session too.
    const withSession = await authorize(browser, t, plain, c, { scope: 'openid', params: { acr_values: 'eidas3' } });
    assert.equal(withSession.end.searchParams.get('error'), 'access_denied');
  });

  test('an unknown acr value is the client’s default: eidas1 for one, a step-up for a client whose default is eidas2', async () => {
    const ok = await authorize(browser, t, plain, c, { scope: 'openid', params: { acr_values: 'eidas0' }, stopAt: /^\/step-up\// });
    const tokens = await oidc.authorizationCodeGrant(plain.config, ok.end, { pkceCodeVerifier: ok.verifier, expectedState: ok.state, expectedNonce: ok.nonce });
    assert.equal(tokens.claims()?.acr, 'eidas1');
    for (const acr of ['eidas0', 'https://refeds.org/profile/mfa']) {
      const attempt = await authorize(browser, t, strictDefault, c, { scope: 'openid', params: { acr_values: acr }, stopAt: /^\/step-up\// });
      assert.match(attempt.end.pathname, /^\/step-up\//, acr);
    }
    // Its default asked explicitly as eidas1 (allowed by its minimum): no step-up.
    const low = await authorize(browser, t, strictDefault, c, { scope: 'openid', params: { acr_values: 'eidas1' }, stopAt: /^\/step-up\// });
    assert.ok(low.end.searchParams.get('code'));
  });

  test('preferred_username: listed on the consent page, in userinfo for a citizen with a usage name only, never in the ID token', async () => {
    const attempt = await authorize(browser, t, profile, c, { scope: 'openid profile preferred_username' });
    assert.equal(attempt.consentPages.length, 1);
    const page = attempt.consentPages[0] ?? '';
    assert.ok(page.includes('vos prénoms'));
    assert.ok(page.includes('votre nom d’usage'));
    const tokens = await oidc.authorizationCodeGrant(profile.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
    assert.equal(tokens.claims()?.preferred_username, undefined);
    const info = await oidc.fetchUserInfo(profile.config, tokens.access_token, tokens.claims()?.sub ?? '');
    assert.equal(info.given_name, c.givenNames);
    assert.equal('preferred_username' in info, false, 'no usage name: no claim, never the birth name in its place');

    const married = await citizenWithPassword(t, { identity: { familyName: 'Martin', usageName: 'Lefèvre-Martin' } });
    const other = new HttpBrowser(s.base);
    const hers = await authorize(other, t, profile, married, { scope: 'openid profile preferred_username' });
    const herTokens = await oidc.authorizationCodeGrant(profile.config, hers.end, { pkceCodeVerifier: hers.verifier, expectedState: hers.state, expectedNonce: hers.nonce });
    assert.equal(herTokens.claims()?.preferred_username, undefined, 'identity claims come from userinfo');
    const herInfo = await oidc.fetchUserInfo(profile.config, herTokens.access_token, herTokens.claims()?.sub ?? '');
    assert.equal(herInfo.preferred_username, 'Lefèvre-Martin');
    assert.equal(herInfo.family_name, 'Martin');
  });
});
