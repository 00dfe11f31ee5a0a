import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { DEFAULT_OIDC_LIFETIMES } from '../../src/oidc/lifetimes.ts';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { citizenWithPassword } from '../support/login.ts';
import { authorize, HttpBrowser, listeningApp, relyingParty } from '../support/oidc-rp.ts';

/**
 * Codes and tokens live briefly by default (code 30 s, access and ID tokens 60 s) and an
 * operator can change each, within bounds, by environment variable.
 */
test('the defaults are the short ones', () => {
  assert.deepEqual(loadConfig({ SESAME_ENV: 'development' }).oidcLifetimes, DEFAULT_OIDC_LIFETIMES);
  assert.deepEqual([DEFAULT_OIDC_LIFETIMES.AuthorizationCode, DEFAULT_OIDC_LIFETIMES.AccessToken, DEFAULT_OIDC_LIFETIMES.IdToken], [30, 60, 60]);
});

for (const [variable, value] of [
  ['SESAME_OIDC_CODE_TTL_SECONDS', '601'],
  ['SESAME_OIDC_ACCESS_TOKEN_TTL_SECONDS', '0'],
  ['SESAME_OIDC_ID_TOKEN_TTL_SECONDS', 'soixante'],
  ['SESAME_OIDC_REFRESH_TOKEN_TTL_SECONDS', '-5'],
] as const) {
  test(`a lifetime out of bounds is refused, naming the variable: ${variable}=${value}`, () => {
    assert.throws(() => loadConfig({ SESAME_ENV: 'development', [variable]: value }), (err: unknown) => err instanceof ConfigError && err.message.startsWith(`${variable}:`));
  });
}

for (const backend of backends()) {
  describe(`configured lifetimes on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb, { SESAME_OIDC_ACCESS_TOKEN_TTL_SECONDS: '15', SESAME_OIDC_ID_TOKEN_TTL_SECONDS: '20', SESAME_OIDC_CODE_TTL_SECONDS: '10' }));
    });
    after(async () => {
      await t.close();
      await tdb.close();
    });

    test('the access token and the ID token carry the configured lifetimes', async () => {
      const rp = await relyingParty(t, base, { name: 'Service court', redirectUri: 'http://localhost:4010/callback', scopes: 'openid' });
      const c = await citizenWithPassword(t);
      const attempt = await authorize(new HttpBrowser(base), t, rp, c, { scope: 'openid' });
      const tokens = await oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
      assert.ok(tokens.expires_in !== undefined && tokens.expires_in <= 15 && tokens.expires_in >= 14, `expires_in ${String(tokens.expires_in)}`);
      const claims = tokens.claims();
      assert.ok(claims);
      assert.equal(claims.exp - claims.iat, 20);
    });
  });
}
