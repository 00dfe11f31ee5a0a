import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, listeningApp, logInThroughPages, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * Open redirect through Sésame's OpenID endpoints, in the real app (the redirect_uri rules
 * themselves are in oidc-redirect-uri-mismatch.test.ts): javascript:/data: redirect URIs, a
 * request_uri naming another site, a post_logout_redirect_uri that is not registered (with
 * and without an ID token), the way back from our login pages (/oidc/return/…, the
 * __Host-sesame-oidc-return cookie) fed an outside address. None sends the browser off-site.
 */
const offSite = (res: Response, base: string): boolean => {
  const location = res.headers.get('location');
  return location !== null && new URL(location, base).origin !== base;
};

for (const backend of backends()) {
  describe(`oidc open redirect on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let rp: RelyingParty;
    let c: Citizen;
    let idToken = '';

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb));
      rp = await relyingParty(t, base, { name: 'Service', redirectUri: 'http://localhost:4901/callback', scopes: 'openid' });
      c = await citizenWithPassword(t);
      const b = new HttpBrowser(base);
      const first = await authorize(b, t, rp, c, { scope: 'openid' });
      idToken = (await oidc.authorizationCodeGrant(rp.config, first.end, { pkceCodeVerifier: first.verifier, expectedState: first.state, expectedNonce: first.nonce })).id_token ?? '';
    });
    after(async () => {
      await t.close();
      await tdb.close();
    });

    test('redirect_uri javascript:, data:, another site, protocol-relative: an error page, never a redirect', async () => {
      for (const uri of ['javascript:alert(1)//http://localhost:4901/callback', 'data:text/html,<script>alert(1)</script>', '//evil.example/callback', 'https://evil.example/callback', 'http://localhost:4901/callback#x', 'http://localhost:4901/callback/..']) {
        const q = new URLSearchParams({ client_id: rp.clientId, response_type: 'code', scope: 'openid', redirect_uri: uri, state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
        const res = await new HttpBrowser(base).get(`/oidc/auth?${q}`);
        assert.equal(res.status, 400, uri);
        assert.equal(res.headers.get('location'), null, uri);
        assert.equal(res.headers.get('cache-control'), 'no-store', uri);
      }
    });

    test('an unknown client_id: an error page, even with a plausible redirect_uri', async () => {
      const q = new URLSearchParams({ client_id: 'AAAAAAAAAAAAAAAAAAAAAAAA', response_type: 'code', scope: 'openid', redirect_uri: 'https://evil.example/callback', state: 's' });
      const res = await new HttpBrowser(base).get(`/oidc/auth?${q}`);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
    });

    test('a request_uri naming another site: refused, no redirect', async () => {
      const q = new URLSearchParams({ client_id: rp.clientId, request_uri: 'https://evil.example/request.jwt', response_type: 'code', scope: 'openid', redirect_uri: rp.redirectUri });
      const res = await new HttpBrowser(base).get(`/oidc/auth?${q}`);
      // An error to the registered redirect_uri, or an error page: never evil.example.
      if (res.status === 303) {
        const back = new URL(res.headers.get('location') ?? '', base);
        assert.equal(`${back.origin}${back.pathname}`, rp.redirectUri);
        assert.ok(back.searchParams.get('error'));
        assert.equal(back.searchParams.get('code'), null);
      } else assert.equal(res.status, 400);
    });

    test('end_session: a post_logout_redirect_uri the client did not register is refused, with or without an ID token', async () => {
      for (const params of ([
        { id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/' },
        { id_token_hint: idToken, post_logout_redirect_uri: `${rp.redirectUri}` },
        { client_id: rp.clientId, post_logout_redirect_uri: 'https://evil.example/' },
      ] as Record<string, string>[])) {
        const res = await new HttpBrowser(base).get(`/oidc/session/end?${new URLSearchParams(params)}`);
        assert.equal(res.status, 400, JSON.stringify(params));
        assert.equal(res.headers.get('location'), null);
      }
      // No client named: the address is dropped, never followed (the logout page is ours).
      const b = new HttpBrowser(base);
      const res = await b.get(`/oidc/session/end?${new URLSearchParams({ post_logout_redirect_uri: 'https://evil.example/' })}`);
      assert.equal(offSite(res, base), false, `${res.status} ${res.headers.get('location')}`);
      // (The language link repeats the query, on our own page: not a way out.)
      assert.doesNotMatch(b.lastPage, /(?:href|action)="(?:https?:)?\/\/evil|url=(?:https?:)?\/\/evil/);
    });

    test('the way back from our login pages only ever leads to an interaction of ours', async () => {
      const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
      for (const target of ['https://evil.example/aaaaaaaaaaaaaaaa', '//evil.example/aaaaaaaaaaaaaaaaaa', '/\\evil.example/aaaaaaaaaaaaaaaa']) {
        const res = await new HttpBrowser(base).get(`/oidc/return/${hex(target)}`);
        assert.equal(offSite(res, base), false, target);
        assert.equal(res.status, 404, target);
      }
      // The return cookie forged to an outside address: the login ends at home, not there.
      for (const value of ['https://evil.example/', '//evil.example', '%2F%2Fevil.example']) {
        const b = new HttpBrowser(base);
        b.jar.set('__Host-sesame-oidc-return', value);
        const done = await logInThroughPages(b, t, c);
        assert.equal(offSite(done, base), false, value);
        let res = done;
        for (let hops = 0; hops < 5 && [302, 303].includes(res.status); hops++) {
          assert.equal(offSite(res, base), false, value);
          res = await b.get(res.headers.get('location') ?? '/');
        }
        assert.doesNotMatch(b.lastPage, /(?:href|action)="(?:https?:)?\/\/evil|url=(?:https?:)?\/\/evil/, value);
      }
    });
  });
}
