import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { buildApp } from '../../src/app.ts';
import type { AppDeps } from '../../src/app-deps.ts';
import { ManualClock, systemClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { createLogger } from '../../src/logger.ts';
import type { ClientInput } from '../../src/oidc/client-policy.ts';
import { createClient, disableClient } from '../../src/oidc/clients.ts';
import { loadSigningKeys } from '../../src/oidc/signing-keys.ts';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { freePort } from '../support/free-port.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * The per-client options of `sesame clients create`, against the real provider in the app
 * (signing keys from the key store, ES256 and RS256) driven by openid-client: RS256 ID tokens
 * checked against the JWKS, userinfo as a signed JWT and as a signed-then-encrypted JWT (the
 * service holds the private key and publishes its JWKS), refresh tokens only to a client
 * allowed them (rotated, a replayed one revokes the grant), a sector sharing the pairwise sub,
 * a public client bound to PKCE S256, and a disabled client whose tokens stop working.
 */

/** Where the encrypting service publishes its keys: https, as the registry requires. */
const ENC_JWKS_URI = 'https://teleservice.example.gouv.fr/oidc/jwks.json';
/** Where the private_key_jwt service publishes its signing keys. */
const SIG_JWKS_URI = 'https://impots.example.gouv.fr/oidc/jwks.json';

interface Rp extends RelyingParty {
  secret: string | null;
}

/** The app on a local port, signing with the key store's keys (as `sesame start` does). */
async function listeningAppWithKeyStore(tdb: TestDatabase): Promise<{ t: TestApp; base: string }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = loadConfig({ SESAME_ENV: 'development', SESAME_ARGON2_MEMORY_KIB: '1024', SESAME_ARGON2_TIME_COST: '1', SESAME_PUBLIC_URL: base, PORT: String(port) });
  const clock = new ManualClock();
  // The provider reads Date: our sessions' auth_time must be on the same time line.
  clock.set(new Date());
  const ring = KeyRing.generate('kek-test');
  const signing = await loadSigningKeys(tdb.db, ring, clock);
  const deps: AppDeps = { config, db: tdb.db, ring, clock, logger: createLogger('silent'), oidcSigningKeys: signing.keys };
  const app = await buildApp(deps);
  await app.listen({ port, host: '127.0.0.1' });
  return { t: { app, deps, clock, close: () => app.close() }, base };
}

for (const backend of backends()) {
  describe(`per-client options of the OpenID provider on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let c: Citizen;
    let browser: HttpBrowser;
    /** RS256 ID token, userinfo signed RS256, refresh tokens, sector dgfip.gouv.fr. */
    let rs: Rp;
    /** Userinfo signed ES256 then encrypted ECDH-ES/A256GCM to its keys, same sector. */
    let enc: Rp;
    /** Defaults: ES256, JSON userinfo, no refresh token, its own sub. */
    let plain: Rp;
    /** A public client: no secret, PKCE S256. */
    let pub: Rp;
    let encKey: { privateKey: CryptoKey; jwk: JsonWebKey & { kid: string } };
    let sigKey: { privateKey: CryptoKey; jwk: JsonWebKey & { kid: string } };
    const realFetch = globalThis.fetch;
    let jwksFetches = 0;

    const register = async (input: Omit<ClientInput, 'redirectUris'> & { redirectUri: string }, metadata: Partial<oidc.ClientMetadata> = {}): Promise<Rp> => {
      const { redirectUri, ...rest } = input;
      const created = await system(t.deps.db, 'test', (tx) => createClient(tx, t.deps.ring, systemClock, { ...rest, redirectUris: [redirectUri] }, 'operator:test'));
      const secret = created.secret;
      const auth = secret ? oidc.ClientSecretBasic(secret) : oidc.None();
      const config = await oidc.discovery(new URL(base), created.client.clientId, { ...(secret ? { client_secret: secret } : {}), ...metadata }, auth, { execute: [oidc.allowInsecureRequests] });
      oidc.enableNonRepudiationChecks(config);
      return { clientId: created.client.clientId, redirectUri, config, secret };
    };

    /** Signs in through the pages (consent accepted) and exchanges the code. */
    const signIn = async (rp: Rp, scope = 'openid'): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> => {
      const attempt = await authorize(browser, t, rp, c, { scope });
      assert.ok(attempt.end.searchParams.get('code'), `no code: ${attempt.end.search}`);
      return oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true });
    };

    const header = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>;
    const rawUserinfo = (accessToken: string): Promise<Response> => realFetch(`${base}/oidc/me`, { headers: { authorization: `Bearer ${accessToken}` } });

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningAppWithKeyStore(tdb));
      const pair = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
      const publicJwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
      encKey = { privateKey: pair.privateKey, jwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y, use: 'enc', alg: 'ECDH-ES', kid: 'rp-enc-1' } };
      const signing = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
      const signingJwk = await crypto.subtle.exportKey('jwk', signing.publicKey);
      sigKey = { privateKey: signing.privateKey, jwk: { kty: signingJwk.kty, crv: signingJwk.crv, x: signingJwk.x, y: signingJwk.y, use: 'sig', alg: 'ES256', kid: 'rp-sig-1' } };
      // The service's JWKS endpoint: the provider fetches jwks_uri with the global fetch (its
      // `fetch` setting's default); only that https URL is answered here, the rest goes out.
      globalThis.fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        if (url === ENC_JWKS_URI) {
          jwksFetches++;
          return Promise.resolve(Response.json({ keys: [encKey.jwk] }, { headers: { 'cache-control': 'max-age=300' } }));
        }
        if (url === SIG_JWKS_URI) return Promise.resolve(Response.json({ keys: [sigKey.jwk] }, { headers: { 'cache-control': 'max-age=300' } }));
        return realFetch(input, init);
      };
      rs = await register(
        { name: 'Impôts (RS256)', redirectUri: 'http://localhost:4101/callback', scopes: 'openid identite_pivot', idTokenAlg: 'RS256', userinfoAlg: 'RS256', refreshTokens: true, postLogoutRedirectUris: ['http://localhost:4101/bye'], sector: 'dgfip.gouv.fr' },
        { id_token_signed_response_alg: 'RS256', userinfo_signed_response_alg: 'RS256' },
      );
      enc = await register(
        { name: 'Cadastre (chiffré)', redirectUri: 'http://localhost:4102/callback', scopes: 'openid identite_pivot', userinfoAlg: 'ES256', userinfoEncAlg: 'ECDH-ES', userinfoEnc: 'A256GCM', jwksUri: ENC_JWKS_URI, sector: 'dgfip.gouv.fr' },
        { id_token_signed_response_alg: 'ES256', userinfo_signed_response_alg: 'ES256' },
      );
      oidc.enableDecryptingResponses(enc.config, ['A256GCM'], { key: encKey.privateKey, kid: encKey.jwk.kid });
      plain = await register({ name: 'Mon compte formation', redirectUri: 'http://localhost:4103/callback', scopes: 'openid identite_pivot' }, { id_token_signed_response_alg: 'ES256' });
      pub = await register({ name: 'Application mobile', redirectUri: 'http://localhost:4104/callback', scopes: 'openid', authMethod: 'none' }, { id_token_signed_response_alg: 'ES256' });
      c = await citizenWithPassword(t);
      browser = new HttpBrowser(base);
    });
    after(async () => {
      globalThis.fetch = realFetch;
      await t?.close();
      await tdb?.close();
    });

    test('discovery advertises what the options need: RS256, signed and encrypted userinfo, refresh tokens, public clients', async () => {
      const meta = (await (await realFetch(`${base}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
      assert.deepEqual(meta.id_token_signing_alg_values_supported, ['ES256', 'RS256']);
      assert.deepEqual(meta.userinfo_signing_alg_values_supported, ['ES256', 'RS256']);
      assert.deepEqual(meta.userinfo_encryption_alg_values_supported, ['ECDH-ES', 'RSA-OAEP', 'RSA-OAEP-256']);
      assert.ok(meta.grant_types_supported?.includes('refresh_token'));
      assert.ok(meta.token_endpoint_auth_methods_supported?.includes('none'));
      assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
      for (const symmetric of ['dir', 'A128KW', 'A256KW', 'PBES2-HS256+A128KW']) assert.equal(meta.userinfo_encryption_alg_values_supported?.includes(symmetric), false, symmetric);
    });

    test('an RS256 client: the ID token is signed RS256 with a key of the JWKS, userinfo is a JWT signed RS256', async () => {
      const tokens = await signIn(rs, 'openid identite_pivot');
      assert.ok(tokens.id_token);
      const h = header(tokens.id_token);
      assert.equal(h.alg, 'RS256');
      const jwks = (await (await realFetch(`${base}/oidc/jwks`)).json()) as { keys: { kid: string; kty: string; alg?: string }[] };
      const key = jwks.keys.find((k) => k.kid === h.kid);
      assert.equal(key?.kty, 'RSA', 'the signing key is published');
      // Checked by openid-client (enableNonRepudiationChecks: signature against the JWKS).
      const claims = tokens.claims();
      assert.equal(claims?.aud, rs.clientId);
      assert.equal(claims?.acr, 'eidas1');

      const raw = await rawUserinfo(tokens.access_token);
      assert.equal(raw.status, 200);
      assert.match(raw.headers.get('content-type') ?? '', /^application\/jwt/);
      assert.match(raw.headers.get('cache-control') ?? '', /no-store/);
      const jwt = await raw.text();
      assert.equal(header(jwt).alg, 'RS256');
      // openid-client checks the JWT's signature, iss and aud, then its claims.
      const info = await oidc.fetchUserInfo(rs.config, tokens.access_token, claims?.sub ?? '');
      assert.equal(info.given_name, c.givenNames);
      assert.equal(info.family_name, c.familyName);
      assert.equal(info.sub, claims?.sub);
    });

    test('a client without options: ES256 ID token, userinfo as JSON, no refresh token', async () => {
      const tokens = await signIn(plain, 'openid identite_pivot');
      assert.equal(header(tokens.id_token ?? '').alg, 'ES256');
      assert.equal(tokens.refresh_token, undefined, 'no refresh token unless the client is allowed them');
      const raw = await rawUserinfo(tokens.access_token);
      assert.match(raw.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(((await raw.json()) as { family_name?: string }).family_name, c.familyName);
    });

    test('userinfo encrypted to the service: a JWE only its private key opens, holding a JWT signed ES256', async () => {
      const tokens = await signIn(enc, 'openid identite_pivot');
      const raw = await rawUserinfo(tokens.access_token);
      assert.equal(raw.status, 200);
      assert.match(raw.headers.get('content-type') ?? '', /^application\/jwt/);
      const jwe = await raw.text();
      assert.equal(jwe.split('.').length, 5, 'a JWE (compact: five parts)');
      const h = header(jwe);
      assert.equal(h.alg, 'ECDH-ES');
      assert.equal(h.enc, 'A256GCM');
      assert.equal(h.kid, encKey.jwk.kid);
      assert.equal(jwe.includes(Buffer.from(c.familyName).toString('base64url')), false, 'nothing readable in it');
      assert.ok(jwksFetches > 0, "the provider fetched the service's keys");
      // openid-client decrypts with the service's key, then checks the inner JWT's signature.
      const info = await oidc.fetchUserInfo(enc.config, tokens.access_token, tokens.claims()?.sub ?? '');
      assert.equal(info.family_name, c.familyName);
      assert.equal(info.given_name, c.givenNames);
    });

    test('a sector shares the pairwise sub between its clients, and only between them', async () => {
      const subRs = (await signIn(rs)).claims()?.sub;
      const subEnc = (await signIn(enc)).claims()?.sub;
      const subPlain = (await signIn(plain)).claims()?.sub;
      assert.ok(subRs && subEnc && subPlain);
      assert.equal(subRs, subEnc, 'same sector, same sub');
      assert.notEqual(subRs, subPlain);
      assert.notEqual(subRs, c.accountId);
    });

    test('refresh tokens: issued to the allowed client, rotated at each use, a replayed one revokes the whole grant', async () => {
      const tokens = await signIn(rs);
      const first = tokens.refresh_token;
      assert.ok(first, 'a refresh token for the client allowed them');
      const refreshed = await oidc.refreshTokenGrant(rs.config, first);
      const second = refreshed.refresh_token;
      assert.ok(second);
      assert.notEqual(second, first, 'rotated');
      assert.notEqual(refreshed.access_token, tokens.access_token);
      // The refreshed access token works.
      assert.equal((await rawUserinfo(refreshed.access_token)).status, 200);
      // Replay of the first one (stolen and used after the service): refused, and the grant is revoked.
      await assert.rejects(oidc.refreshTokenGrant(rs.config, first), (err: unknown) => err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant');
      await assert.rejects(oidc.refreshTokenGrant(rs.config, second), (err: unknown) => err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant', 'the current one dies with the grant');
      assert.equal((await rawUserinfo(refreshed.access_token)).status, 401, 'and its access tokens');
    });

    test('a client not allowed refresh tokens cannot use the refresh_token grant', async () => {
      const tokens = await signIn(rs);
      assert.ok(tokens.refresh_token);
      // The plain client presents a refresh token: refused before the token is even looked at.
      await assert.rejects(
        oidc.refreshTokenGrant(plain.config, tokens.refresh_token),
        (err: unknown) => err instanceof oidc.ResponseBodyError && err.error === 'unauthorized_client' && /grant type is not allowed for this client/.test(err.error_description ?? ''),
      );
      // The token itself still works for its own client.
      assert.ok((await oidc.refreshTokenGrant(rs.config, tokens.refresh_token)).access_token);
    });

    test('a public client: code + PKCE S256 without a secret, no refresh token', async () => {
      const tokens = await signIn(pub);
      assert.equal(tokens.claims()?.aud, pub.clientId);
      assert.equal(tokens.refresh_token, undefined);
      assert.equal(pub.secret, null);
    });

    test('a public client without PKCE is refused (PKCE downgrade)', async () => {
      const url = oidc.buildAuthorizationUrl(pub.config, { redirect_uri: pub.redirectUri, scope: 'openid', state: 'st-pkce', nonce: oidc.randomNonce() });
      const res = await new HttpBrowser(base).get(url.href);
      assert.equal(res.status, 303);
      const back = new URL(res.headers.get('location') ?? '');
      assert.equal(`${back.origin}${back.pathname}`, pub.redirectUri);
      assert.equal(back.searchParams.get('error'), 'invalid_request');
      assert.match(back.searchParams.get('error_description') ?? '', /requires PKCE/);
      assert.equal(back.searchParams.get('state'), 'st-pkce');
    });

    test('a public client cannot exchange a code with a wrong verifier', async () => {
      const attempt = await authorize(browser, t, pub, c, { scope: 'openid' });
      await assert.rejects(
        oidc.authorizationCodeGrant(pub.config, attempt.end, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: attempt.state, expectedNonce: attempt.nonce }),
        (err: unknown) => err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant',
      );
    });

    test('private_key_jwt: the service authenticates with an assertion signed by the key at its jwks_uri, not with another key', async () => {
      const created = await system(t.deps.db, 'test', (tx) =>
        createClient(tx, t.deps.ring, systemClock, { name: 'Impôts (clé)', redirectUris: ['http://localhost:4106/callback'], scopes: 'openid', authMethod: 'private_key_jwt', jwksUri: SIG_JWKS_URI }, 'operator:test'),
      );
      assert.equal(created.secret, null);
      const discover = (key: CryptoKey): Promise<oidc.Configuration> =>
        oidc.discovery(new URL(base), created.client.clientId, { token_endpoint_auth_method: 'private_key_jwt' }, oidc.PrivateKeyJwt({ key, kid: sigKey.jwk.kid }), { execute: [oidc.allowInsecureRequests] });
      const rp: Rp = { clientId: created.client.clientId, redirectUri: 'http://localhost:4106/callback', config: await discover(sigKey.privateKey), secret: null };
      const tokens = await signIn(rp);
      assert.equal(tokens.claims()?.aud, rp.clientId);

      const other = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
      const forged: Rp = { ...rp, config: await discover(other.privateKey) };
      const attempt = await authorize(browser, t, forged, c, { scope: 'openid' });
      await assert.rejects(
        oidc.authorizationCodeGrant(forged.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce }),
        (err: unknown) => err instanceof oidc.ResponseBodyError && err.error === 'invalid_client',
      );
    });

    test('a machine client (no redirect URI) gets client-credentials tokens, and no other grant', async () => {
      const created = await system(t.deps.db, 'test', (tx) => createClient(tx, t.deps.ring, systemClock, { name: 'Batch CAF', redirectUris: [], scopes: 'openid', clientCredentials: true }, 'operator:test'));
      const secret = created.secret ?? '';
      const config = await oidc.discovery(new URL(base), created.client.clientId, { client_secret: secret }, oidc.ClientSecretPost(secret), { execute: [oidc.allowInsecureRequests] });
      const tokens = await oidc.clientCredentialsGrant(config, {});
      assert.ok(tokens.access_token);
      assert.equal(tokens.refresh_token, undefined);
      assert.equal(tokens.id_token, undefined);
      await assert.rejects(oidc.refreshTokenGrant(config, 'whatever'), (err: unknown) => err instanceof oidc.ResponseBodyError && err.error === 'unauthorized_client');
    });

    test('a disabled client: its access and refresh tokens stop working, it can no longer start a sign-in', async () => {
      const victim = await register({ name: 'Service fermé', redirectUri: 'http://localhost:4105/callback', scopes: 'openid', refreshTokens: true }, { id_token_signed_response_alg: 'ES256' });
      const tokens = await signIn(victim);
      assert.equal((await rawUserinfo(tokens.access_token)).status, 200);
      assert.ok(tokens.refresh_token);
      assert.equal(await system(t.deps.db, 'test', (tx) => disableClient(tx, t.clock, victim.clientId)), 'disabled');
      assert.equal((await rawUserinfo(tokens.access_token)).status, 401, 'the access token no longer works');
      await assert.rejects(
        oidc.refreshTokenGrant(victim.config, tokens.refresh_token),
        (err: unknown) => err instanceof oidc.WWWAuthenticateChallengeError && err.response.status === 401 && err.cause.some((ch) => ch.parameters.error === 'invalid_client'),
      );
      const url = oidc.buildAuthorizationUrl(victim.config, { redirect_uri: victim.redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
      const res = await new HttpBrowser(base).get(url.href);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null, 'never redirected to an unknown client');
    });
  });
}
