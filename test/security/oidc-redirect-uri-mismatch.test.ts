import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { createClient, disableClient } from '../../src/oidc/clients.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { oidcTestServer, type OidcTestServer } from '../support/oidc-provider.ts';

/**
 * Open redirect through the authorization endpoint: a redirect_uri that is not exactly one
 * the service registered (a sibling path, a trailing slash, another case, a query, another
 * host, a userinfo trick) gets an error page from Sésame, never a redirect carrying a code or
 * an error to that address. The same for a disabled client, and for the implicit flow.
 */
for (const backend of backends()) {
  describe(`oidc redirect_uri mismatch on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let server: OidcTestServer;
    let issuer: string;
    const ring = KeyRing.generate('kek-test');
    const registered = 'https://service.example.gouv.fr/oidc/callback';
    let clientId: string;

    const authorize = (params: Record<string, string>): Promise<Response> =>
      fetch(`${issuer}/auth?${new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', state: 's', nonce: 'n', ...params })}`, { redirect: 'manual' });

    before(async () => {
      t = await backend.open();
      const created = await system(t.db, 'test', (tx) =>
        createClient(tx, ring, systemClock, { name: 'Service', redirectUris: [registered], scopes: 'openid', authMethod: 'client_secret_basic' }, 'operator:test'),
      );
      clientId = created.client.clientId;
      server = await oidcTestServer({ db: t.db, ring });
      issuer = server.issuer;
    });
    after(async () => {
      await server.close();
      await t.close();
    });

    test('the registered redirect_uri is accepted (the flow goes on to the login prompt)', async () => {
      const res = await authorize({ redirect_uri: registered });
      assert.equal(res.status, 303);
      assert.match(res.headers.get('location') ?? '', /^\/interaction\//);
    });

    const NEAR_MISSES = [
      `${registered}/`,
      `${registered}/../evil`,
      `${registered}?next=https://evil.example`,
      'https://service.example.gouv.fr/oidc/callback2',
      'https://SERVICE.example.gouv.fr/oidc/callback',
      'http://service.example.gouv.fr/oidc/callback',
      'https://service.example.gouv.fr.evil.example/oidc/callback',
      'https://service.example.gouv.fr@evil.example/oidc/callback',
      'https://evil.example/oidc/callback',
    ];
    for (const uri of NEAR_MISSES) {
      test(`no redirect to a near miss: ${uri}`, async () => {
        const res = await authorize({ redirect_uri: uri });
        assert.equal(res.status, 400);
        assert.equal(res.headers.get('location'), null);
        assert.match(await res.text(), /invalid_redirect_uri/);
      });
    }

    test('a missing redirect_uri is refused even though the client has only one', async () => {
      const res = await authorize({});
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
    });

    test('the implicit flow is refused: an error to the registered address, no token', async () => {
      for (const responseType of ['id_token token', 'token', 'id_token', 'code id_token']) {
        const res = await authorize({ redirect_uri: registered, response_type: responseType });
        const location = new URL(res.headers.get('location') ?? '', issuer);
        assert.equal(res.status, 303);
        assert.equal(`${location.origin}${location.pathname}`, registered);
        const answer = new URLSearchParams(location.search || location.hash.slice(1));
        assert.equal(answer.get('error'), 'unsupported_response_type', responseType);
        assert.equal(answer.get('access_token') ?? answer.get('id_token') ?? answer.get('code'), null);
      }
    });

    test('a disabled client gets an error page, never a redirect', async () => {
      await system(t.db, 'test', (tx) => disableClient(tx, systemClock, clientId));
      const res = await authorize({ redirect_uri: registered });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      const page = await res.text();
      assert.match(page, /invalid_client/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.doesNotMatch(page, /https?:\/\//, 'the error page loads nothing from elsewhere');
    });
  });
}
