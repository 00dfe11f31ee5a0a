import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type AdapterPayload } from 'oidc-provider';
import { systemClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { createOidcStore, oidcAdapter, PgAdapter } from '../../src/oidc/adapter.ts';
import { backends, type TestDatabase } from '../support/databases.ts';

/**
 * The adapter under the real library: an in-process oidc-provider (no Fastify) on node's
 * http server, a client-credentials grant, then introspection and revocation, every step
 * going through oidc_payloads. The client itself is read through the adapter's Client model.
 */
for (const backend of backends()) {
  describe(`oidc-provider on the PostgreSQL adapter on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let server: Server;
    let issuer: string;
    const ring = KeyRing.generate('kek-test');
    const clientId = 'machine-client-0123456789';
    const clientSecret = randomBytes(32).toString('base64url');
    const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    const form = (body: Record<string, string>): RequestInit => ({
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });

    before(async () => {
      t = await backend.open();
      // The provider reads time from Date, so the store does too here.
      const store = createOidcStore({ db: t.db, ring, clock: systemClock });
      await new PgAdapter('Client', store).upsert(clientId, {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      } as AdapterPayload);
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
      const provider = new Provider(issuer, {
        adapter: oidcAdapter(store),
        jwks: { keys: [{ ...signing, alg: 'ES256', use: 'sig', kid: 'test-es256' }] },
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        features: { clientCredentials: { enabled: true }, introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId }, revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId }, devInteractions: { enabled: false } },
        scopes: ['openid'],
        ttl: { ClientCredentials: 60 },
        clientDefaults: { id_token_signed_response_alg: 'ES256' },
      });
      server.on('request', provider.callback());
    });
    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    });

    test('client credentials grant: token saved, introspected active, revoked, then inactive', async () => {
      const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
      const tokenRes = await fetch(discovery.token_endpoint, form({ grant_type: 'client_credentials' }));
      assert.equal(tokenRes.status, 200, await tokenRes.clone().text());
      const token = (await tokenRes.json()) as { access_token: string; token_type: string; expires_in: number };
      assert.equal(token.token_type, 'Bearer');
      assert.ok(token.expires_in <= 60);
      const stored = await t.superuser(`SELECT count(*)::int AS n FROM oidc_payloads WHERE model = 'ClientCredentials'`);
      assert.equal(stored.rows[0].n, 1);

      const introspect = async (): Promise<{ active: boolean; client_id?: string }> =>
        (await (await fetch(`${issuer}/token/introspection`, form({ token: token.access_token }))).json()) as { active: boolean; client_id?: string };
      assert.deepEqual(await introspect().then((r) => [r.active, r.client_id]), [true, clientId]);

      const revoked = await fetch(`${issuer}/token/revocation`, form({ token: token.access_token }));
      assert.equal(revoked.status, 200);
      assert.equal((await introspect()).active, false);
      const left = await t.superuser(`SELECT count(*)::int AS n FROM oidc_payloads WHERE model = 'ClientCredentials'`);
      assert.equal(left.rows[0].n, 0);
    });

    test('a wrong client secret is refused', async () => {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${clientId}:wrong`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
    });
  });
}
