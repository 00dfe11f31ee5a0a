import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { systemClock } from '../../src/clock.ts';
import { system } from '../../src/db/contexts.ts';
import { createClient } from '../../src/oidc/clients.ts';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, listeningApp, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * Claims a service is not registered for: it was registered with `openid email`, and asks for
 * more — other scopes (FranceConnect's identity, phone…), unknown ones (offline_access for a
 * refresh token), a `claims` request parameter naming identity claims (essential or not, for
 * the ID token or userinfo), the same inside a request object or a pushed request. It gets an
 * error or exactly what it is registered for and the citizen agreed to: never a name, a birth
 * date or a phone number, in the ID token or at userinfo, and the consent page lists only that.
 */
const IDENTITY = ['given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry', 'preferred_username', 'phone_number'];
const CLAIMS_REQUEST = (essential: boolean): string =>
  JSON.stringify({
    id_token: Object.fromEntries(IDENTITY.map((c) => [c, essential ? { essential: true } : null])),
    userinfo: Object.fromEntries(IDENTITY.map((c) => [c, essential ? { essential: true } : null])),
  });

for (const backend of backends()) {
  describe(`oidc claims not allowed on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let rp: RelyingParty;
    let secret = '';
    let c: Citizen;
    let browser: HttpBrowser;

    /** What the service ends with: its ID token's claims and its userinfo. */
    async function released(attempt: Awaited<ReturnType<typeof authorize>>): Promise<{ idToken: Record<string, unknown>; userinfo: Record<string, unknown> }> {
      const tokens = await oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
      assert.equal(tokens.refresh_token, undefined, 'no refresh token');
      const idToken = { ...tokens.claims() };
      const userinfo = { ...(await oidc.fetchUserInfo(rp.config, tokens.access_token, String(idToken.sub))) };
      return { idToken, userinfo };
    }

    const noIdentity = (where: string, claims: Record<string, unknown>): void => {
      for (const claim of IDENTITY) assert.equal(claims[claim], undefined, `${where}: ${claim}`);
    };

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb));
      const created = await system(t.deps.db, 'test', (tx) =>
        createClient(tx, t.deps.ring, systemClock, { name: 'Service courriel', redirectUris: ['http://localhost:4701/callback'], scopes: 'openid email', authMethod: 'client_secret_basic' }, 'operator:test'),
      );
      secret = created.secret ?? '';
      const config = await oidc.discovery(new URL(base), created.client.clientId, { client_secret: secret }, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
      oidc.enableNonRepudiationChecks(config);
      rp = { clientId: created.client.clientId, redirectUri: 'http://localhost:4701/callback', config };
      c = await citizenWithPassword(t, { contact: { phone: '+33612345678' } });
      browser = new HttpBrowser(base);
    });
    after(async () => {
      await t.close();
      await tdb.close();
    });

    test('a scope the service is not registered for: invalid_scope, no code, no consent page', async () => {
      for (const scope of ['openid email identite_pivot', 'openid phone', 'openid given_name', 'openid profile', 'openid preferred_username', 'openid birth']) {
        const attempt = await authorize(new HttpBrowser(base), t, rp, c, { scope });
        assert.equal(`${attempt.end.origin}${attempt.end.pathname}`, rp.redirectUri, scope);
        assert.equal(attempt.end.searchParams.get('code'), null, scope);
        assert.equal(attempt.end.searchParams.get('error'), 'invalid_scope', scope);
        assert.equal(attempt.consentPages.length, 0, scope);
      }
    });

    test('unknown scopes (offline_access, address…) are ignored: the consent lists only the email, no refresh token', async () => {
      const attempt = await authorize(browser, t, rp, c, { scope: 'openid email offline_access address unknown_scope' });
      assert.equal(attempt.consentPages.length, 1);
      const page = attempt.consentPages[0] ?? '';
      assert.ok(page.includes('votre adresse électronique'));
      for (const words of ['vos prénoms', 'votre date de naissance', 'votre numéro de téléphone']) assert.equal(page.includes(words), false, words);
      const { idToken, userinfo } = await released(attempt);
      noIdentity('ID token', idToken);
      assert.deepEqual(Object.keys(userinfo).sort(), ['email', 'sub']);
      assert.equal(userinfo.email, c.email);
    });

    test('the claims parameter is not offered, and ignored: essential or not, ID token or userinfo', async () => {
      const meta = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.notEqual(meta.claims_parameter_supported, true);
      for (const essential of [false, true]) {
        const attempt = await authorize(browser, t, rp, c, { scope: 'openid email', params: { claims: CLAIMS_REQUEST(essential) } });
        assert.equal(attempt.consentPages.length, 0, 'nothing new to consent to');
        const { idToken, userinfo } = await released(attempt);
        noIdentity(`ID token (essential: ${essential})`, idToken);
        noIdentity(`userinfo (essential: ${essential})`, userinfo);
        assert.deepEqual(Object.keys(userinfo).sort(), ['email', 'sub']);
      }
    });

    test('a request object (unsigned) carrying scopes or claims: refused, no code', async () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
      const payload = Buffer.from(
        JSON.stringify({ iss: rp.clientId, aud: base, client_id: rp.clientId, response_type: 'code', redirect_uri: rp.redirectUri, scope: 'openid email identite_pivot phone', claims: JSON.parse(CLAIMS_REQUEST(true)) as unknown }),
      ).toString('base64url');
      const attempt = await authorize(browser, t, rp, c, { scope: 'openid email', params: { request: `${header}.${payload}.` } });
      assert.equal(attempt.end.searchParams.get('code'), null);
      assert.equal(attempt.end.searchParams.get('error'), 'request_not_supported');
    });

    test('a pushed authorization request: the same rules (invalid_scope; the claims parameter ignored)', async () => {
      const push = (fields: Record<string, string>): Promise<Response> =>
        fetch(`${base}/oidc/request`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${rp.clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ client_id: rp.clientId, response_type: 'code', redirect_uri: rp.redirectUri, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', ...fields }).toString(),
        });
      const refused = await push({ scope: 'openid identite_pivot' });
      assert.equal(refused.status, 400);
      assert.equal(((await refused.json()) as { error: string }).error, 'invalid_scope');
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const pushed = await push({ scope: 'openid email', claims: CLAIMS_REQUEST(true), state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(verifier) });
      assert.equal(pushed.status, 201, await pushed.clone().text());
      const { request_uri: requestUri } = (await pushed.json()) as { request_uri: string };
      const res = await browser.get(`/oidc/auth?${new URLSearchParams({ client_id: rp.clientId, request_uri: requestUri })}`);
      const end = new URL(res.headers.get('location') ?? '', base);
      assert.equal(`${end.origin}${end.pathname}`, rp.redirectUri);
      const { idToken, userinfo } = await released({ end, verifier, state, nonce, consentPages: [], consentCsp: [] });
      noIdentity('ID token (pushed)', idToken);
      assert.deepEqual(Object.keys(userinfo).sort(), ['email', 'sub']);
    });

    test('userinfo ignores what its caller adds (scope, claims)', async () => {
      const attempt = await authorize(browser, t, rp, c, { scope: 'openid email' });
      const tokens = await oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
      const res = await fetch(`${base}/oidc/me?${new URLSearchParams({ scope: 'openid identite_pivot phone', claims: CLAIMS_REQUEST(true) })}`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      // Either refused (insufficient_scope) or answered with the granted claims only.
      if (res.status === 200) assert.deepEqual(Object.keys((await res.json()) as object).sort(), ['email', 'sub']);
      else assert.ok([400, 403].includes(res.status), String(res.status));
    });
  });
}
