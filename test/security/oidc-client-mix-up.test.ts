import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, listeningApp, relyingParty, type AuthorizationAttempt, type RelyingParty } from '../support/oidc-rp.ts';
import { systemClock } from '../../src/clock.ts';
import { system } from '../../src/db/contexts.ts';
import { createClient } from '../../src/oidc/clients.ts';

/**
 * Mix-up between two services: what Sésame gave service A (a code, an access token, an ID
 * token) is worthless to service B — B redeeming A's code with its own credentials, B
 * revoking A's token, A's ID token as B's id_token_hint — and every authorization response
 * names its issuer (RFC 9207), so a service talking to several providers can tell whose
 * response reached its callback; openid-client refuses one that names another issuer, or none.
 */
for (const backend of backends()) {
  describe(`oidc client mix-up on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let a: RelyingParty;
    let b: RelyingParty;
    let bSecret = '';
    let c: Citizen;
    let browser: HttpBrowser;

    const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    const tokenAs = (id: string, secret: string, fields: Record<string, string>): Promise<Response> =>
      fetch(`${base}/oidc/token`, { method: 'POST', headers: { authorization: basic(id, secret), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    const codeOf = (attempt: AuthorizationAttempt): string => {
      const code = attempt.end.searchParams.get('code');
      assert.ok(code, attempt.end.href);
      return code;
    };
    const checksOf = (attempt: AuthorizationAttempt): { pkceCodeVerifier: string; expectedState: string; expectedNonce: string } => ({
      pkceCodeVerifier: attempt.verifier,
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
    });

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb));
      a = await relyingParty(t, base, { name: 'Service A', redirectUri: 'http://localhost:4401/callback', scopes: 'openid email' });
      // B registered by hand: the test plays B's server and needs its secret.
      const created = await system(t.deps.db, 'test', (tx) =>
        createClient(tx, t.deps.ring, systemClock, { name: 'Service B', redirectUris: ['http://localhost:4402/callback'], scopes: 'openid email', authMethod: 'client_secret_basic' }, 'operator:test'),
      );
      bSecret = created.secret ?? '';
      const bConfig = await oidc.discovery(new URL(base), created.client.clientId, { client_secret: bSecret }, oidc.ClientSecretBasic(bSecret), { execute: [oidc.allowInsecureRequests] });
      oidc.enableNonRepudiationChecks(bConfig);
      b = { clientId: created.client.clientId, redirectUri: 'http://localhost:4402/callback', config: bConfig };
      c = await citizenWithPassword(t);
      browser = new HttpBrowser(base);
      // The citizen has used both services already (consents given).
      for (const rp of [a, b]) {
        const first = await authorize(browser, t, rp, c, { scope: 'openid email' });
        await oidc.authorizationCodeGrant(rp.config, first.end, checksOf(first));
      }
    });
    after(async () => {
      await t.close();
      await tdb.close();
    });

    test('discovery says authorization responses carry iss; a code response and an error response do', async () => {
      const meta = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.equal(meta.authorization_response_iss_parameter_supported, true);
      const ok = await authorize(browser, t, a, c, { scope: 'openid email' });
      assert.equal(ok.end.searchParams.get('iss'), base);
      const refused = await authorize(new HttpBrowser(base), t, a, c, { scope: 'openid', params: { prompt: 'none' } });
      assert.equal(refused.end.searchParams.get('error'), 'login_required');
      assert.equal(refused.end.searchParams.get('iss'), base);
    });

    /** openid-client's refusal, for the iss parameter (the reason is the error's cause). */
    const aboutIss = (e: unknown): boolean => e instanceof Error && /"iss"/.test(String((e.cause as Error | undefined)?.message));

    test('the service refuses a response naming another issuer, or none (RFC 9207), and its code is not spent', async () => {
      const attempt = await authorize(browser, t, a, c, { scope: 'openid email' });
      const otherIss = new URL(attempt.end);
      otherIss.searchParams.set('iss', 'https://evil.example');
      await assert.rejects(oidc.authorizationCodeGrant(a.config, otherIss, checksOf(attempt)), aboutIss);
      const noIss = new URL(attempt.end);
      noIss.searchParams.delete('iss');
      await assert.rejects(oidc.authorizationCodeGrant(a.config, noIss, checksOf(attempt)), aboutIss);
      // Refused before the token request: the genuine response still works.
      assert.equal((await oidc.authorizationCodeGrant(a.config, attempt.end, checksOf(attempt))).claims()?.aud, a.clientId);
    });

    test('service B redeeming A’s code with its own credentials: invalid_grant, whatever redirect_uri', async () => {
      const attempt = await authorize(browser, t, a, c, { scope: 'openid email' });
      const code = codeOf(attempt);
      for (const redirectUri of [a.redirectUri, b.redirectUri]) {
        const res = await tokenAs(b.clientId, bSecret, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: attempt.verifier });
        assert.equal(res.status, 400, redirectUri);
        assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
      }
      // B's client_id with A's code and no valid secret: not even authenticated.
      const anonymous = await fetch(`${base}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: a.redirectUri, code_verifier: attempt.verifier, client_id: b.clientId }).toString(),
      });
      assert.equal(anonymous.status, 401);
      // A still gets its tokens, for A.
      const tokens = await oidc.authorizationCodeGrant(a.config, attempt.end, checksOf(attempt));
      assert.equal(tokens.claims()?.aud, a.clientId);
    });

    test('A’s code with B’s configuration in openid-client: refused', async () => {
      const attempt = await authorize(browser, t, a, c, { scope: 'openid email' });
      const atB = new URL(b.redirectUri);
      for (const [k, v] of attempt.end.searchParams) atB.searchParams.set(k, v);
      await assert.rejects(oidc.authorizationCodeGrant(b.config, atB, checksOf(attempt)));
    });

    test('each service gets its own sub, and an ID token only for itself', async () => {
      const fromA = await authorize(browser, t, a, c, { scope: 'openid email' });
      const fromB = await authorize(browser, t, b, c, { scope: 'openid email' });
      const claimsA = (await oidc.authorizationCodeGrant(a.config, fromA.end, checksOf(fromA))).claims();
      const claimsB = (await oidc.authorizationCodeGrant(b.config, fromB.end, checksOf(fromB))).claims();
      assert.equal(claimsA?.aud, a.clientId);
      assert.equal(claimsB?.aud, b.clientId);
      assert.equal(claimsA?.azp ?? a.clientId, a.clientId);
      assert.notEqual(claimsA?.sub, claimsB?.sub);
    });

    test('service B cannot revoke A’s access token', async () => {
      const attempt = await authorize(browser, t, a, c, { scope: 'openid email' });
      const tokens = await oidc.authorizationCodeGrant(a.config, attempt.end, checksOf(attempt));
      const res = await fetch(`${base}/oidc/token/revocation`, {
        method: 'POST',
        headers: { authorization: basic(b.clientId, bSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.access_token, token_type_hint: 'access_token' }).toString(),
      });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
      const info = await oidc.fetchUserInfo(a.config, tokens.access_token, tokens.claims()?.sub ?? '');
      assert.equal(info.email, c.email, 'still valid for A');
    });

    test('A’s ID token as B’s id_token_hint: an error to B, no code', async () => {
      const attempt = await authorize(browser, t, a, c, { scope: 'openid email' });
      const idToken = (await oidc.authorizationCodeGrant(a.config, attempt.end, checksOf(attempt))).id_token ?? '';
      const atB = await authorize(browser, t, b, c, { scope: 'openid email', params: { prompt: 'none', id_token_hint: idToken } });
      assert.equal(`${atB.end.origin}${atB.end.pathname}`, b.redirectUri);
      assert.equal(atB.end.searchParams.get('code'), null);
      assert.equal(atB.end.searchParams.get('error'), 'invalid_request');
      // And at end_session, naming B as the client.
      const logout = await new HttpBrowser(base).get(`/oidc/session/end?${new URLSearchParams({ id_token_hint: idToken, client_id: b.clientId })}`);
      assert.equal(logout.status, 400);
      assert.equal(logout.headers.get('location'), null);
    });
  });
}
