import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { systemClock } from '../../src/clock.ts';
import { system } from '../../src/db/contexts.ts';
import { createClient } from '../../src/oidc/clients.ts';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, follow, HttpBrowser, listeningApp, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * PKCE downgrade: PKCE S256 is required of public clients (no secret) and honoured for
 * confidential ones. An attacker holding a stolen code cannot redeem it without the verifier,
 * nor by sending the challenge itself (plain), nor strip PKCE from a public client's request;
 * `plain` is refused outright; and a code issued without a challenge cannot be slipped into a
 * client that sends a verifier (RFC 9700 §4.8.2: the server must refuse a code_verifier when
 * the code had no challenge).
 */
const S256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

for (const backend of backends()) {
  describe(`oidc PKCE downgrade on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let conf: RelyingParty & { secret: string };
    let pub: RelyingParty;
    let c: Citizen;
    let browser: HttpBrowser;

    async function register(name: string, redirectUri: string, authMethod: string): Promise<RelyingParty & { secret: string }> {
      const created = await system(t.deps.db, 'test', (tx) => createClient(tx, t.deps.ring, systemClock, { name, redirectUris: [redirectUri], scopes: 'openid', authMethod }, 'operator:test'));
      const secret = created.secret ?? '';
      const auth = authMethod === 'none' ? oidc.None() : oidc.ClientSecretBasic(secret);
      const config = await oidc.discovery(new URL(base), created.client.clientId, authMethod === 'none' ? { token_endpoint_auth_method: 'none' } : { client_secret: secret }, auth, { execute: [oidc.allowInsecureRequests] });
      return { clientId: created.client.clientId, redirectUri, config, secret };
    }

    /** The front channel with exactly these parameters (no PKCE added): where the browser ends. */
    async function front(rp: RelyingParty, params: Record<string, string>): Promise<URL> {
      const q = new URLSearchParams({ client_id: rp.clientId, response_type: 'code', scope: 'openid', redirect_uri: rp.redirectUri, state: 'st', nonce: 'nn', ...params });
      return (await follow(browser, t, rp, c, await browser.get(`/oidc/auth?${q}`))).end;
    }

    const exchange = (rp: RelyingParty & { secret?: string }, code: string, extra: Record<string, string>): Promise<Response> => {
      const confidential = rp.secret !== undefined && rp.secret !== '';
      return fetch(`${base}/oidc/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(confidential ? { authorization: `Basic ${Buffer.from(`${rp.clientId}:${rp.secret ?? ''}`).toString('base64')}` } : {}),
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: rp.redirectUri, ...(confidential ? {} : { client_id: rp.clientId }), ...extra }).toString(),
      });
    };
    const errorOf = async (res: Response): Promise<string> => ((await res.json()) as { error: string }).error;

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb));
      conf = await register('Service confidentiel', 'http://localhost:4501/callback', 'client_secret_basic');
      pub = await register('Application publique', 'http://localhost:4502/callback', 'none');
      c = await citizenWithPassword(t);
      browser = new HttpBrowser(base);
      // Logged in, both consents given, through the ordinary flow (openid-client, S256).
      for (const rp of [conf, pub]) {
        const first = await authorize(browser, t, rp, c, { scope: 'openid' });
        const tokens = await oidc.authorizationCodeGrant(rp.config, first.end, { pkceCodeVerifier: first.verifier, expectedState: first.state, expectedNonce: first.nonce });
        assert.ok(tokens.id_token);
      }
    });
    after(async () => {
      await t.close();
      await tdb.close();
    });

    test('discovery offers S256 only', async () => {
      const meta = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    });

    test('a public client’s request without PKCE: invalid_request to the service, no code', async () => {
      const end = await front(pub, {});
      assert.equal(`${end.origin}${end.pathname}`, pub.redirectUri);
      assert.equal(end.searchParams.get('code'), null);
      assert.equal(end.searchParams.get('error'), 'invalid_request');
    });

    test('code_challenge_method plain, or a challenge without its method: refused for both kinds of client', async () => {
      const verifier = oidc.randomPKCECodeVerifier();
      for (const rp of [conf, pub]) {
        for (const params of ([{ code_challenge: verifier, code_challenge_method: 'plain' }, { code_challenge: verifier }, { code_challenge: S256(verifier), code_challenge_method: 's256' }, { code_challenge_method: 'S256' }] as Record<string, string>[])) {
          const end = await front(rp, params);
          assert.equal(end.searchParams.get('code'), null, JSON.stringify(params));
          assert.equal(end.searchParams.get('error'), 'invalid_request', JSON.stringify(params));
        }
      }
    });

    for (const kind of ['confidential', 'public'] as const) {
      test(`a ${kind} client’s code bound to S256: no verifier, a wrong one, the challenge itself — all refused; the right one works`, async () => {
        const rp = kind === 'public' ? pub : conf;
        const verifier = oidc.randomPKCECodeVerifier();
        const end = await front(rp, { code_challenge: S256(verifier), code_challenge_method: 'S256' });
        const code = end.searchParams.get('code');
        assert.ok(code, end.href);
        for (const extra of ([{}, { code_verifier: oidc.randomPKCECodeVerifier() }, { code_verifier: S256(verifier) }, { code_verifier: `${verifier}x` }] as Record<string, string>[])) {
          const res = await exchange(rp, code, extra);
          assert.equal(res.status, 400, JSON.stringify(extra));
          assert.equal(await errorOf(res), 'invalid_grant', JSON.stringify(extra));
        }
        // Too short to be a verifier (RFC 7636: 43 to 128 characters): refused as malformed.
        const short = await exchange(rp, code, { code_verifier: verifier.slice(0, 42) });
        assert.equal(short.status, 400);
        assert.equal(await errorOf(short), 'invalid_request');
        // The attacker's failed tries did not spend the code for the service itself.
        const ok = await exchange(rp, code, { code_verifier: verifier });
        assert.equal(ok.status, 200, await ok.clone().text());
      });
    }

    test('a public client cannot exchange a code without its verifier even with another client’s secret', async () => {
      const verifier = oidc.randomPKCECodeVerifier();
      const end = await front(pub, { code_challenge: S256(verifier), code_challenge_method: 'S256' });
      const code = end.searchParams.get('code') ?? '';
      const res = await exchange({ ...pub, secret: conf.secret }, code, {});
      assert.equal(res.status, 401);
    });

    test('a code issued without a challenge (confidential client) cannot be redeemed with a code_verifier (injection)', async () => {
      const end = await front(conf, {});
      const code = end.searchParams.get('code');
      assert.ok(code, end.href);
      const injected = await exchange(conf, code, { code_verifier: oidc.randomPKCECodeVerifier() });
      assert.equal(injected.status, 400);
      assert.equal(await errorOf(injected), 'invalid_grant');
      // openid-client sends the verifier of its own request: refused the same way.
      const hijacked = new URL(conf.redirectUri);
      hijacked.searchParams.set('code', code);
      hijacked.searchParams.set('state', 'st');
      hijacked.searchParams.set('iss', base);
      await assert.rejects(oidc.authorizationCodeGrant(conf.config, hijacked, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: 'st', expectedNonce: 'nn' }));
    });
  });
}
