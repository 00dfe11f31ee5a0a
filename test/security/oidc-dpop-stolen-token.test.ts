import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { onEachBackendListening } from '../support/suites.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * A stolen access token, when the service asked for it bound to its key (DPoP, RFC 9449: the
 * provider's feature, on): useless as a bearer token, useless with another key's proof, and a
 * proof seen on the wire cannot be replayed. The same service without DPoP still gets plain
 * bearer tokens (the FranceConnect contract).
 */
onEachBackendListening('oidc DPoP-bound tokens', (s) => {
  const { t } = s;
  let rp: RelyingParty;
  let c: Citizen;
  let browser: HttpBrowser;

  before(async () => {
    rp = await relyingParty(t, s.base, { name: 'Service DPoP', redirectUri: 'http://localhost:4801/callback', scopes: 'openid given_name' });
    c = await citizenWithPassword(t);
    browser = new HttpBrowser(s.base);
  });

  /** A userinfo proof made by the client for its token, kept from the wire (as a thief on the path would). */
  async function heldBackProof(token: string, sub: string, dpop: oidc.DPoPHandle): Promise<string> {
    let held = '';
    const wire = rp.config[oidc.customFetch];
    rp.config[oidc.customFetch] = (_url, options) => {
      held = new Headers(options.headers).get('dpop') ?? '';
      return Promise.resolve(new Response(JSON.stringify({ sub }), { status: 200, headers: { 'content-type': 'application/json' } }));
    };
    try {
      await oidc.fetchUserInfo(rp.config, token, sub, { DPoP: dpop });
    } finally {
      rp.config[oidc.customFetch] = wire ?? ((url, options) => fetch(url, options as unknown as RequestInit));
    }
    assert.ok(held);
    return held;
  }

  const userinfo = (token: string, headers: Record<string, string>): Promise<Response> => fetch(`${s.base}/oidc/me`, { headers: { ...headers, authorization: `DPoP ${token}` } });

  test('bound to the key that asked for it: works with its proofs only, never as a bearer token nor with another key, and a proof cannot be replayed', async () => {
    const key = await oidc.randomDPoPKeyPair('ES256');
    const dpop = oidc.getDPoPHandle(rp.config, key);
    const attempt = await authorize(browser, t, rp, c, { scope: 'openid given_name' });
    const tokens = await oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce }, undefined, { DPoP: dpop });
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    const sub = tokens.claims()?.sub ?? '';
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, sub, { DPoP: dpop });
    assert.equal(info.given_name, c.givenNames);

    // The thief has the token, not the key.
    const asBearer = await fetch(`${s.base}/oidc/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(asBearer.status, 401);
    assert.equal((await asBearer.json()).given_name, undefined);
    const thief = oidc.getDPoPHandle(rp.config, await oidc.randomDPoPKeyPair('ES256'));
    await assert.rejects(oidc.fetchUserInfo(rp.config, tokens.access_token, sub, { DPoP: thief }), (err: { status?: number; cause?: { parameters?: { error?: string } }[] }) => {
      assert.equal(err.status, 401);
      assert.equal(err.cause?.[0]?.parameters?.error, 'invalid_token');
      return true;
    });

    // A proof of the right key, made but held back (the client's request never leaves): sent
    // once it works, which shows the request is right; sent again, it is a replay.
    const held = await heldBackProof(tokens.access_token, sub, dpop);
    const first = await userinfo(tokens.access_token, { dpop: held });
    assert.equal(first.status, 200);
    assert.equal((await first.json()).given_name, c.givenNames);
    const replayed = await userinfo(tokens.access_token, { dpop: held });
    assert.equal(replayed.status, 401);
    assert.match(replayed.headers.get('www-authenticate') ?? '', /^DPoP .*error="invalid_token"/);
  });

  test('a proof replayed 20 times at once is honoured once (the proof\'s jti is claimed in one statement, not looked up then saved)', async () => {
    const key = await oidc.randomDPoPKeyPair('ES256');
    const dpop = oidc.getDPoPHandle(rp.config, key);
    const attempt = await authorize(browser, t, rp, c, { scope: 'openid given_name' });
    const tokens = await oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce }, undefined, { DPoP: dpop });
    const held = await heldBackProof(tokens.access_token, tokens.claims()?.sub ?? '', dpop);
    const answers = await Promise.all(Array.from({ length: 20 }, () => userinfo(tokens.access_token, { dpop: held })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, ...Array<number>(19).fill(401)]);
  });

  test('a service that does not use DPoP gets bearer tokens, as before', async () => {
    const attempt = await authorize(browser, t, rp, c, { scope: 'openid given_name' });
    const tokens = await oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal((await oidc.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()?.sub ?? '')).given_name, c.givenNames);
  });
});
