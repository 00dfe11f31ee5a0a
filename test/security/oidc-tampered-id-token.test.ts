import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import * as oidc from 'openid-client';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, listeningApp, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * acr downgrade (or upgrade) in a tampered ID token: a citizen signed in at eidas1 edits the
 * token a service received (acr eidas2, another sub…) or forges one — payload changed under
 * the real signature, `alg: none`, HS256 keyed with our public key (key confusion), a key of
 * their own under our kid or embedded in the header, RS256 in place of ES256. The service's
 * openid-client refuses every one (signature checked against our JWKS), and so do our own
 * endpoints that take an ID token back: end_session's and the authorization endpoint's
 * `id_token_hint`.
 */

const b64 = (v: string | Buffer): string => Buffer.from(v).toString('base64url');
const parts = (jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } => {
  const [h = '', p = '', s = ''] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>, payload: JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>, signature: s };
};
const encode = (header: Record<string, unknown>, payload: Record<string, unknown>): string => `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
const es256 = (key: KeyObject, input: string): string => b64(sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }));
const rs256 = (key: KeyObject, input: string): string => b64(sign('sha256', Buffer.from(input), key));
const hs256 = (secret: string | Buffer, input: string): string => b64(createHmac('sha256', secret).update(input).digest());

interface PublicJwk {
  kid?: string;
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
}

/** Every forgery of a genuine ID token an attacker can make without our private key. */
function forgeries(genuine: string, published: PublicJwk, changes: Record<string, unknown>): Record<string, string> {
  const { header, payload, signature } = parts(genuine);
  const forged = { ...payload, ...changes };
  const attackerEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attackerRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJson = JSON.stringify(published);
  const out: Record<string, string> = {};
  out['payload changed under the real signature'] = `${encode(header, forged)}.${signature}`;
  out['alg none, no signature'] = `${encode({ alg: 'none', typ: 'JWT' }, forged)}.`;
  out['alg none, the real signature kept'] = `${encode({ alg: 'none', kid: header.kid }, forged)}.${signature}`;
  out['signature stripped'] = `${encode(header, forged)}.`;
  for (const [name, secret] of [
    ['HS256 keyed with our public JWK', publicJson],
    ['HS256 keyed with our public key x', published.x ?? ''],
  ] as const) {
    const input = encode({ alg: 'HS256', kid: header.kid }, forged);
    out[name] = `${input}.${hs256(secret, input)}`;
  }
  const sameKid = encode({ ...header }, forged);
  out['an attacker key under our kid'] = `${sameKid}.${es256(attackerEc.privateKey, sameKid)}`;
  const embedded = encode({ ...header, jwk: attackerEc.publicKey.export({ format: 'jwk' }) }, forged);
  out['an attacker key embedded in the header (jwk)'] = `${embedded}.${es256(attackerEc.privateKey, embedded)}`;
  const rsa = encode({ alg: 'RS256', kid: header.kid }, forged);
  out['RS256 with an attacker key under our kid'] = `${rsa}.${rs256(attackerRsa.privateKey, rsa)}`;
  const jku = encode({ ...header, jku: 'https://evil.example/jwks.json' }, forged);
  out['an attacker jku'] = `${jku}.${es256(attackerEc.privateKey, jku)}`;
  return out;
}

for (const backend of backends()) {
  describe(`oidc tampered ID token on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let rp: RelyingParty;
    let c: Citizen;
    let browser: HttpBrowser;
    let genuine = '';
    let published: PublicJwk;

    /** A code through the front channel (consent already given): the callback URL and its checks. */
    const signIn = async (params: Record<string, string> = {}): Promise<{ end: URL; checks: { pkceCodeVerifier: string; expectedState: string; expectedNonce: string } }> => {
      const a = await authorize(browser, t, rp, c, { scope: 'openid', params });
      return { end: a.end, checks: { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce } };
    };

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb));
      rp = await relyingParty(t, base, { name: 'Service', redirectUri: 'http://localhost:4301/callback', scopes: 'openid' });
      c = await citizenWithPassword(t);
      browser = new HttpBrowser(base);
      const first = await signIn();
      const tokens = await oidc.authorizationCodeGrant(rp.config, first.end, first.checks);
      assert.equal(tokens.claims()?.acr, 'eidas1');
      genuine = tokens.id_token ?? '';
      const { keys } = (await (await fetch(`${base}/oidc/jwks`)).json()) as { keys: PublicJwk[] };
      const kid = parts(genuine).header.kid;
      const key = keys.find((k) => k.kid === kid);
      assert.ok(key, 'the signing key is published');
      published = key;
    });
    after(async () => {
      await t.close();
      await tdb.close();
    });

    test('the genuine ID token is ES256, signed by a key of our JWKS, at eidas1', () => {
      const { header, payload } = parts(genuine);
      assert.equal(header.alg, 'ES256');
      assert.equal(payload.acr, 'eidas1');
      assert.equal(payload.iss, base);
      assert.equal(payload.aud, rp.clientId);
    });

    test('the service (openid-client) refuses every forged ID token in the token response', async () => {
      // The control first: the same rewriting, the token left as it came, is accepted.
      const names = ['control', ...Object.keys(forgeries(genuine, published, {}))];
      for (const name of names) {
        const { end, checks } = await signIn();
        let forgedOne = '';
        const config = rp.config;
        config[oidc.customFetch] = async (url, options) => {
          const res = await fetch(url, options as RequestInit);
          if (!url.endsWith('/oidc/token')) return res;
          const body = (await res.json()) as { id_token: string };
          forgedOne = name === 'control' ? body.id_token : (forgeries(body.id_token, published, { acr: 'eidas2', amr: ['pwd', 'otp', 'mfa'] })[name] ?? '');
          return Response.json({ ...body, id_token: forgedOne }, { status: res.status, headers: { 'cache-control': 'no-store' } });
        };
        try {
          if (name === 'control') assert.equal((await oidc.authorizationCodeGrant(config, end, checks)).claims()?.acr, 'eidas1');
          else await assert.rejects(oidc.authorizationCodeGrant(config, end, checks), Error, name);
          assert.ok(forgedOne, name);
        } finally {
          config[oidc.customFetch] = (url, options) => fetch(url, options as RequestInit);
        }
      }
    });

    test('end_session: the genuine id_token_hint shows the logout step, every forged one an error page', async () => {
      const ok = await browser.get(`/oidc/session/end?${new URLSearchParams({ id_token_hint: genuine })}`);
      assert.equal(ok.status, 200, browser.lastPage.slice(0, 300));
      for (const [name, forged] of Object.entries(forgeries(genuine, published, { acr: 'eidas2' }))) {
        const res = await new HttpBrowser(base).get(`/oidc/session/end?${new URLSearchParams({ id_token_hint: forged })}`);
        assert.equal(res.status, 400, name);
        assert.equal(res.headers.get('location'), null, name);
        const page = await res.text();
        assert.match(page, /invalid_request/, name);
        assert.doesNotMatch(page, /<form/, name);
        assert.equal(res.headers.get('cache-control'), 'no-store', name);
      }
    });

    test('end_session: a forged token naming another sub or audience is refused too', async () => {
      for (const [name, forged] of Object.entries({
        ...forgeries(genuine, published, { sub: 'another-citizen' }),
        ...forgeries(genuine, published, { aud: 'not-a-client-id-0123456789' }),
      })) {
        const res = await new HttpBrowser(base).get(`/oidc/session/end?${new URLSearchParams({ id_token_hint: forged })}`);
        assert.equal(res.status, 400, name);
        assert.equal(res.headers.get('location'), null, name);
      }
    });

    test('authorization with prompt=none: the genuine hint gets a code, a forged one an error and no code', async () => {
      const ok = await signIn({ prompt: 'none', id_token_hint: genuine });
      assert.ok(ok.end.searchParams.get('code'), ok.end.href);
      for (const [name, forged] of Object.entries(forgeries(genuine, published, { acr: 'eidas2' }))) {
        const { end } = await signIn({ prompt: 'none', id_token_hint: forged });
        assert.equal(`${end.origin}${end.pathname}`, rp.redirectUri, name);
        assert.equal(end.searchParams.get('code'), null, name);
        assert.equal(end.searchParams.get('error'), 'invalid_request', name);
      }
    });

    test('a genuine ID token of another citizen as hint: no silent sign-in as this one', async () => {
      const other = await citizenWithPassword(t);
      const otherBrowser = new HttpBrowser(base);
      const a = await authorize(otherBrowser, t, rp, other, { scope: 'openid' });
      const tokens = await oidc.authorizationCodeGrant(rp.config, a.end, { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce });
      const { end } = await signIn({ prompt: 'none', id_token_hint: tokens.id_token ?? '' });
      assert.equal(end.searchParams.get('code'), null);
      assert.equal(end.searchParams.get('error'), 'login_required');
    });
  });
}
