import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { oidcTestServer, type OidcTestServer } from '../support/oidc-provider.ts';

/**
 * Replaying a DPoP proof or a private_key_jwt client assertion: the provider records each one's
 * jti through ReplayDetection.unique, called by the library's DPoP and client-assertion checks.
 * The provider as createOidcProvider makes it: of 20 checks of one jti at the same moment,
 * exactly one passes (the library's own looks the jti up, then saves it, so all 20 would see
 * nothing and pass). Over HTTP, test/security/oidc-dpop-stolen-token.test.ts.
 */
for (const backend of backends()) {
  describe(`oidc proof and assertion replay on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let server: OidcTestServer;

    before(async () => {
      t = await backend.open();
      server = await oidcTestServer({ db: t.db, ring: KeyRing.generate('kek-test') });
    });
    after(async () => {
      await server.close();
      await t.close();
    });

    const exp = (): number => Math.floor(Date.now() / 1000) + 60;

    test('20 checks of one jti at once: exactly one passes; the jti is then refused', async () => {
      const { ReplayDetection } = server.provider;
      const jti = randomBytes(16).toString('base64url');
      const checks = await Promise.all(Array.from({ length: 20 }, () => ReplayDetection.unique('client-a', jti, exp())));
      assert.equal(checks.filter(Boolean).length, 1);
      assert.equal(await ReplayDetection.unique('client-a', jti, exp()), false);
    });

    test('the same jti from another client, or another jti, is not a replay', async () => {
      const { ReplayDetection } = server.provider;
      const jti = randomBytes(16).toString('base64url');
      assert.equal(await ReplayDetection.unique('client-a', jti, exp()), true);
      assert.equal(await ReplayDetection.unique('client-b', jti, exp()), true);
      assert.equal(await ReplayDetection.unique('client-a', randomBytes(16).toString('base64url'), exp()), true);
    });
  });
}
