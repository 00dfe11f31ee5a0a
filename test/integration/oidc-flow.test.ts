import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { closeAccess, openAccess } from '../../src/incident/access.ts';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, listeningApp, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

const OPERATOR = { kind: 'operator', name: 'oncall' } as const;

/**
 * A real relying party (openid-client) against the app listening on a local port: discovery,
 * authorization code + PKCE through our login pages (the mailed code read from the outbox) and
 * consent page, token exchange with the ID token checked by openid-client (signature, iss,
 * aud, nonce), userinfo, and a pairwise sub per service.
 */
for (const backend of backends()) {
  describe(`OpenID Connect sign-in through Sésame on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let training: RelyingParty;
    let tax: RelyingParty;
    let c: Citizen;
    const b = (): HttpBrowser => new HttpBrowser(base);
    let browser: HttpBrowser;
    let firstSub = '';

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb));
      training = await relyingParty(t, base, { name: 'Mon compte formation', redirectUri: 'http://localhost:4001/callback', scopes: 'openid identite_pivot email' });
      tax = await relyingParty(t, base, { name: 'Impôts', redirectUri: 'http://localhost:4002/callback', scopes: 'openid' });
      c = await citizenWithPassword(t);
      browser = b();
    });
    after(async () => {
      await t.close();
      await tdb.close();
    });

    test('discovery at the root of the public origin, endpoints under /oidc', async () => {
      const res = await fetch(`${base}/.well-known/openid-configuration`);
      assert.equal(res.status, 200);
      const meta = (await res.json()) as Record<string, unknown>;
      assert.equal(meta.issuer, base);
      assert.equal(meta.authorization_endpoint, `${base}/oidc/auth`);
      assert.equal(meta.token_endpoint, `${base}/oidc/token`);
      assert.equal(meta.jwks_uri, `${base}/oidc/jwks`);
      assert.deepEqual(meta.subject_types_supported, ['pairwise']);
      assert.deepEqual(meta.acr_values_supported, ['eidas1', 'eidas2', 'eidas3']);
      assert.deepEqual(meta.response_types_supported, ['code']);
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      const jwks = (await (await fetch(`${base}/oidc/jwks`)).json()) as { keys: { kty: string; d?: string }[] };
      assert.ok(jwks.keys.length > 0);
      assert.ok(jwks.keys.every((k) => k.d === undefined), 'no private part published');
    });

    test('code + PKCE through our login and consent pages: a validated ID token at eidas1, userinfo claims', async () => {
      const attempt = await authorize(browser, t, training, c, { scope: 'openid identite_pivot email' });
      assert.equal(attempt.consentPages.length, 1);
      const page = attempt.consentPages[0] ?? '';
      assert.match(page, /Mon compte formation/);
      for (const words of ['vos prénoms', 'votre nom de naissance', 'votre date de naissance', 'votre adresse électronique', 'un identifiant propre à ce service']) assert.ok(page.includes(words), words);
      assert.equal(page.includes('votre numéro de téléphone'), false, 'only the claims of the scopes asked');
      // Accepting ends, after redirects, at the service: Chromium checks those against form-action.
      assert.match(attempt.consentCsp[0] ?? '', /form-action 'self' http:\/\/localhost:4001;/);
      assert.match(attempt.consentCsp[0] ?? '', /frame-ancestors 'none'/);
      const tokens = await oidc.authorizationCodeGrant(training.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true });
      const claims = tokens.claims();
      assert.ok(claims);
      assert.equal(claims.iss, base);
      assert.equal(claims.aud, training.clientId);
      assert.equal(claims.acr, 'eidas1');
      assert.deepEqual([...((claims.amr as string[] | undefined) ?? [])].sort(), ['mail', 'pwd']);
      assert.equal(typeof claims.auth_time, 'number');
      assert.notEqual(claims.sub, c.accountId, 'never the account id');
      assert.equal(claims.given_name, undefined, 'identity claims come from userinfo');
      const info = await oidc.fetchUserInfo(training.config, tokens.access_token, claims.sub);
      assert.equal(info.given_name, c.givenNames);
      assert.equal(info.family_name, c.familyName);
      assert.equal(info.email, c.email);
      assert.match(String(info.birthdate), /^\d{4}-\d{2}-\d{2}$/);
      assert.match(String(info.birthcountry), /^99\d{3}$/);
      assert.equal(info.phone_number, undefined);
      firstSub = claims.sub;
    });

    test('the consent is remembered: a second sign-in to the same service asks nothing, same sub', async () => {
      const attempt = await authorize(browser, t, training, c, { scope: 'openid identite_pivot email' });
      assert.equal(attempt.consentPages.length, 0);
      const tokens = await oidc.authorizationCodeGrant(training.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
      assert.equal(tokens.claims()?.sub, firstSub);
    });

    test('another service gets another sub for the same citizen, and only what it asked', async () => {
      const attempt = await authorize(browser, t, tax, c, { scope: 'openid' });
      assert.equal(attempt.consentPages.length, 1);
      assert.equal((attempt.consentPages[0] ?? '').includes('vos prénoms'), false);
      const tokens = await oidc.authorizationCodeGrant(tax.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
      const sub = tokens.claims()?.sub ?? '';
      assert.ok(sub);
      assert.notEqual(sub, firstSub);
      const info = await oidc.fetchUserInfo(tax.config, tokens.access_token, sub);
      assert.deepEqual(Object.keys(info), ['sub']);
    });

    test('logged out of Sésame: the service gets no silent sign-in', async () => {
      const other = b();
      const first = await authorize(other, t, tax, c, { scope: 'openid' });
      assert.ok(first.end.searchParams.get('code'));
      // The Sésame session ends (the provider's own session cookie stays in the browser).
      other.jar.delete('__Host-sesame-session');
      const again = await authorize(other, t, tax, c, { scope: 'openid', params: { prompt: 'none' } });
      assert.equal(again.end.searchParams.get('error'), 'login_required');
    });

    test('while citizen access is closed: temporarily_unavailable to a known redirect_uri, the maintenance page otherwise', async () => {
      await closeAccess(t.deps.db, t.clock, { by: OPERATOR, reason: 'INC-OIDC' });
      try {
        // Past the gate's cache.
        await new Promise((resolve) => setTimeout(resolve, t.deps.config.isolation.accessCacheMs + 50));
        const url = oidc.buildAuthorizationUrl(training.config, { redirect_uri: training.redirectUri, scope: 'openid', state: 'st-1', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
        const res = await b().get(url.href);
        assert.equal(res.status, 303);
        const back = new URL(res.headers.get('location') ?? '');
        assert.equal(`${back.origin}${back.pathname}`, training.redirectUri);
        assert.equal(back.searchParams.get('error'), 'temporarily_unavailable');
        assert.equal(back.searchParams.get('state'), 'st-1');
        assert.equal(back.searchParams.get('iss'), base);
        // openid-client checks iss (RFC 9207) and then reports the error itself.
        await assert.rejects(oidc.authorizationCodeGrant(training.config, back, { expectedState: 'st-1', pkceCodeVerifier: 'x'.repeat(43) }), (err: unknown) => err instanceof oidc.AuthorizationResponseError && err.error === 'temporarily_unavailable');
        // Asked as form_post: answered as form_post (our page, its form-action opened to that exact service).
        const posted = new URL(url);
        posted.searchParams.set('response_mode', 'form_post');
        const page = await b().get(posted.href);
        assert.equal(page.status, 200);
        const body = await page.text();
        assert.match(body, new RegExp(`<form method="post" action="${training.redirectUri}" data-oidc-form-post>`));
        assert.match(body, /<input type="hidden" name="error" value="temporarily_unavailable">/);
        assert.match(body, /<input type="hidden" name="state" value="st-1">/);
        assert.match(page.headers.get('content-security-policy') ?? '', /form-action 'self' http:\/\/localhost:4001/);
        assert.match(page.headers.get('cache-control') ?? '', /no-store/);
        // Public metadata and what only takes access away stay open; what hands out citizen data closes.
        assert.equal((await fetch(`${base}/.well-known/openid-configuration`)).status, 200);
        assert.equal((await fetch(`${base}/oidc/jwks`)).status, 200);
        const revoke = await fetch(`${base}/oidc/token/revocation`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=unknown' });
        assert.notEqual(revoke.status, 503, 'a service may still revoke its tokens');
        assert.equal((await fetch(`${base}/oidc/session/end`)).status !== 503, true, 'a citizen may still sign out');
        assert.equal((await fetch(`${base}/oidc/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' })).status, 503);
        assert.equal((await fetch(`${base}/oidc/me`)).status, 503);
        const evil = new URL(url);
        evil.searchParams.set('redirect_uri', 'https://evil.example/callback');
        const refused = await b().get(evil.href);
        assert.equal(refused.status, 503);
        assert.equal(refused.headers.get('location'), null);
      } finally {
        await openAccess(t.deps.db, t.clock, { by: OPERATOR });
      }
    });
  });
}
