import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { systemClock } from '../../src/clock.ts';
import { system } from '../../src/db/contexts.ts';
import { createClient } from '../../src/oidc/clients.ts';
import type { ClientInput } from '../../src/oidc/client-policy.ts';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, listeningApp } from '../support/oidc-rp.ts';

/**
 * Grants a client is not allowed: client credentials asked by a citizen-facing service (or a
 * public client), a machine client using the authorization endpoint, the password grant, the
 * implicit flow, refresh tokens for a client not registered for them, device / CIBA / token
 * exchange. Each gets the OAuth error, never a token; a machine token opens no citizen's data.
 */
for (const backend of backends()) {
  describe(`oidc grant not allowed on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let c: Citizen;
    let web: { id: string; secret: string; redirectUri: string };
    let machine: { id: string; secret: string };
    let publicClient: { id: string; redirectUri: string };

    const register = async (input: ClientInput): Promise<{ id: string; secret: string }> => {
      const created = await system(t.deps.db, 'test', (tx) => createClient(tx, t.deps.ring, systemClock, input, 'operator:test'));
      return { id: created.client.clientId, secret: created.secret ?? '' };
    };
    const token = (client: { id: string; secret?: string }, fields: Record<string, string>): Promise<Response> =>
      fetch(`${base}/oidc/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(client.secret ? { authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}` } : {}),
        },
        body: new URLSearchParams({ ...(client.secret ? {} : { client_id: client.id }), ...fields }).toString(),
      });
    const refused = async (res: Response, errors: string[], what: string): Promise<void> => {
      const body = (await res.json()) as { error?: string; access_token?: string };
      assert.ok(res.status === 400 || res.status === 401, `${what}: ${res.status}`);
      assert.ok(errors.includes(body.error ?? ''), `${what}: ${body.error}`);
      assert.equal(body.access_token, undefined, what);
    };

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb));
      web = { ...(await register({ name: 'Service', redirectUris: ['http://localhost:4801/callback'], scopes: 'openid email', authMethod: 'client_secret_basic' })), redirectUri: 'http://localhost:4801/callback' };
      machine = await register({ name: 'Traitement', redirectUris: [], scopes: 'openid', clientCredentials: true, authMethod: 'client_secret_basic' });
      publicClient = { id: (await register({ name: 'Appli', redirectUris: ['http://localhost:4802/callback'], scopes: 'openid', authMethod: 'none' })).id, redirectUri: 'http://localhost:4802/callback' };
      c = await citizenWithPassword(t);
    });
    after(async () => {
      await t.close();
      await tdb.close();
    });

    test('discovery: no password, implicit, device or CIBA grant; code only', async () => {
      const meta = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      const grants = meta.grant_types_supported as string[];
      for (const g of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:openid:params:grant-type:ciba', 'urn:ietf:params:oauth:grant-type:token-exchange']) assert.equal(grants.includes(g), false, g);
      assert.deepEqual(meta.response_types_supported, ['code']);
      assert.equal(meta.device_authorization_endpoint, undefined);
      assert.equal(meta.backchannel_authentication_endpoint, undefined);
    });

    test('client credentials: refused to a citizen-facing service and to a public client, granted to the machine client', async () => {
      // RFC 6749 §5.2's unauthorized_client (the library says invalid_request: src/oidc/answers.ts).
      await refused(await token(web, { grant_type: 'client_credentials' }), ['unauthorized_client'], 'web');
      await refused(await token(publicClient, { grant_type: 'client_credentials' }), ['unauthorized_client'], 'public');
      // Before that, the client must authenticate: a wrong secret learns nothing of its grants.
      await refused(await token({ ...web, secret: 'not-the-secret' }, { grant_type: 'client_credentials' }), ['invalid_client'], 'wrong secret');
      const ok = await token(machine, { grant_type: 'client_credentials' });
      assert.equal(ok.status, 200, await ok.clone().text());
    });

    test('a machine token opens no citizen’s userinfo', async () => {
      const { access_token: machineToken } = (await (await token(machine, { grant_type: 'client_credentials' })).json()) as { access_token: string };
      const res = await fetch(`${base}/oidc/me`, { headers: { authorization: `Bearer ${machineToken}` } });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);
    });

    test('the password grant: refused to every client, with or without a citizen’s real password', async () => {
      for (const client of [web, machine, publicClient]) {
        const res = await token(client, { grant_type: 'password', username: c.nir, password: c.password, scope: 'openid' });
        await refused(res, ['unsupported_grant_type'], client.id);
      }
    });

    test('device code, CIBA, token exchange, JWT bearer, SAML: unsupported', async () => {
      for (const grantType of ['urn:ietf:params:oauth:grant-type:device_code', 'urn:openid:params:grant-type:ciba', 'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:saml2-bearer', 'implicit']) {
        await refused(await token(web, { grant_type: grantType }), ['unsupported_grant_type'], grantType);
      }
      for (const path of ['/oidc/device/auth', '/oidc/backchannel']) {
        const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${web.id}:${web.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'scope=openid' });
        assert.ok([400, 404].includes(res.status), `${path}: ${res.status}`);
      }
    });

    test('the implicit and hybrid flows: unsupported_response_type to the service, no token', async () => {
      for (const responseType of ['token', 'id_token', 'id_token token', 'code token', 'code id_token', 'none']) {
        const q = new URLSearchParams({ client_id: web.id, response_type: responseType, scope: 'openid', redirect_uri: web.redirectUri, state: 's', nonce: 'n' });
        const res = await fetch(`${base}/oidc/auth?${q}`, { redirect: 'manual' });
        assert.equal(res.status, 303, responseType);
        const back = new URL(res.headers.get('location') ?? '', base);
        assert.equal(`${back.origin}${back.pathname}`, web.redirectUri, responseType);
        const answer = new URLSearchParams(back.search || back.hash.slice(1));
        assert.equal(answer.get('error'), 'unsupported_response_type', responseType);
        assert.equal(answer.get('access_token') ?? answer.get('id_token') ?? answer.get('code'), null, responseType);
      }
    });

    test('a machine client on the authorization endpoint: refused, no code', async () => {
      const q = new URLSearchParams({ client_id: machine.id, response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:4801/callback', state: 's' });
      const res = await fetch(`${base}/oidc/auth?${q}`, { redirect: 'manual' });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
    });

    test('no refresh token for a client not registered for them, even asking offline_access with prompt=consent', async () => {
      const config = await oidc.discovery(new URL(base), web.id, { client_secret: web.secret }, oidc.ClientSecretBasic(web.secret), { execute: [oidc.allowInsecureRequests] });
      const rp = { clientId: web.id, redirectUri: web.redirectUri, config };
      const b = new HttpBrowser(base);
      const attempt = await authorize(b, t, rp, c, { scope: 'openid email offline_access', params: { prompt: 'consent' } });
      const tokens = await oidc.authorizationCodeGrant(config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
      assert.equal(tokens.refresh_token, undefined);
      assert.equal((tokens.scope ?? '').includes('offline_access'), false);
      await refused(await token(web, { grant_type: 'refresh_token', refresh_token: tokens.access_token }), ['unauthorized_client'], 'refresh');
    });
  });
}
