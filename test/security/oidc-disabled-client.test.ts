import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { createClient, disableClient, rotateClientSecret } from '../../src/oidc/clients.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { oidcTestServer, type OidcTestServer } from '../support/oidc-provider.ts';

/**
 * A disabled (or compromised and rotated) client keeps trying: the real oidc-provider, on our
 * registry and adapter, must refuse it at once. Also proves the hashed-secret check works for
 * both client_secret_basic and client_secret_post, and that a secret's MAC is not a secret.
 */
for (const backend of backends()) {
  describe(`oidc disabled client on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let server: OidcTestServer;
    let issuer: string;
    const ring = KeyRing.generate('kek-test');
    let machine: { id: string; secret: string };

    const tokenBasic = (id: string, secret: string): Promise<Response> =>
      fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
    const tokenPost = (id: string, secret: string): Promise<Response> =>
      fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret }).toString(),
      });

    before(async () => {
      t = await backend.open();
      const created = await system(t.db, 'test', (tx) =>
        createClient(tx, ring, systemClock, { name: 'Batch', redirectUris: [], scopes: 'openid', clientCredentials: true, authMethod: 'client_secret_basic' }, 'operator:test'),
      );
      machine = { id: created.client.clientId, secret: created.secret ?? '' };
      server = await oidcTestServer({ db: t.db, ring });
      issuer = server.issuer;
    });
    after(async () => {
      await server.close();
      await t.close();
    });

    test('an enabled client authenticates with its secret (basic), not with the MAC stored for it', async () => {
      const ok = await tokenBasic(machine.id, machine.secret);
      assert.equal(ok.status, 200, await ok.clone().text());
      const { rows } = await t.superuser(`SELECT secret_mac FROM oidc_clients WHERE client_id = $1`, [machine.id]);
      const stolen = `sesame-mac1.${Buffer.from(rows[0].secret_mac as Uint8Array).toString('base64url')}`;
      const withMac = await tokenBasic(machine.id, stolen);
      assert.equal(withMac.status, 401, 'a dumped MAC is not a usable secret');
    });

    // oidc-provider treats client_secret_basic and client_secret_post as one family (either
    // transport for the same secret): registering one does not forbid the other.
    test('client_secret_post: the secret authenticates, a wrong one or another client’s does not', async () => {
      const post = await system(t.db, 'test', (tx) =>
        createClient(tx, ring, systemClock, { name: 'Batch post', redirectUris: [], scopes: 'openid', clientCredentials: true, authMethod: 'client_secret_post' }, 'operator:test'),
      );
      const ok = await tokenPost(post.client.clientId, post.secret ?? '');
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.equal((await tokenPost(post.client.clientId, `${post.secret ?? ''}A`)).status, 401);
      assert.equal((await tokenPost(post.client.clientId, machine.secret)).status, 401, 'another client’s secret');
    });

    test('after rotate-secret the old secret is refused at once', async () => {
      const fresh = await system(t.db, 'test', (tx) => rotateClientSecret(tx, ring, systemClock, machine.id));
      assert.equal(typeof fresh, 'string');
      assert.equal((await tokenBasic(machine.id, machine.secret)).status, 401);
      assert.equal((await tokenBasic(machine.id, fresh)).status, 200);
      machine.secret = fresh;
    });

    test('discovery offers no symmetric algorithm a stored MAC would key, no implicit flow, no password grant', async () => {
      const d = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
      // `none`: public clients (sesame clients create --auth-method none), bound to PKCE S256.
      assert.deepEqual(d.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']);
      for (const key of ['token_endpoint_auth_signing_alg_values_supported', 'id_token_signing_alg_values_supported', 'request_object_signing_alg_values_supported', 'userinfo_signing_alg_values_supported']) {
        for (const alg of d[key] ?? []) assert.doesNotMatch(alg, /^HS/, key);
      }
      for (const alg of d.userinfo_encryption_alg_values_supported ?? []) assert.ok(!['dir', 'A128KW', 'A256KW'].includes(alg) && !alg.startsWith('PBES2'), alg);
      // ID tokens are signed, never encrypted: no client can register it, so it is not offered.
      assert.equal(d.id_token_encryption_alg_values_supported, undefined);
      assert.equal(d.id_token_encryption_enc_values_supported, undefined);
      assert.deepEqual(d.response_types_supported, ['code']);
      assert.equal((d.grant_types_supported ?? []).includes('password'), false);
      assert.equal((d.grant_types_supported ?? []).includes('implicit'), false);
      assert.deepEqual(d.acr_values_supported, ['eidas1', 'eidas2', 'eidas3']);
      assert.equal(d.registration_endpoint, undefined, 'no dynamic registration');
    });

    test('a disabled client is refused at once: invalid_client', async () => {
      assert.equal(await system(t.db, 'test', (tx) => disableClient(tx, systemClock, machine.id)), 'disabled');
      const refused = await tokenBasic(machine.id, machine.secret);
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { error: string }).error, 'invalid_client');
    });
  });
}
