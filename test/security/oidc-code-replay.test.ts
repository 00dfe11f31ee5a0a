import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { systemClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { createClient, disableClient } from '../../src/oidc/clients.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { oidcTestServer, type OidcTestServer } from '../support/oidc-provider.ts';

/**
 * Code replay against the real oidc-provider on our adapter: an authorization code exchanged
 * by 20 requests at once is honoured once; the replays get invalid_grant and revoke the grant,
 * so the access token the winner got stops working too (RFC 6749 §4.1.2). The login and
 * consent prompts are answered by the test itself (our interaction pages are not built yet).
 */
for (const backend of backends()) {
  describe(`oidc code replay on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let server: OidcTestServer;
    let issuer: string;
    const ring = KeyRing.generate('kek-test');
    const redirectUri = 'http://localhost:9999/callback';
    const accountId = randomUUID();
    let client: { id: string; secret: string };

    before(async () => {
      t = await backend.open();
      const created = await system(t.db, 'test', (tx) =>
        createClient(tx, ring, systemClock, { name: 'Service', redirectUris: [redirectUri], scopes: 'openid', authMethod: 'client_secret_basic' }, 'operator:test'),
      );
      client = { id: created.client.clientId, secret: created.secret ?? '' };
      server = await oidcTestServer({
        db: t.db,
        ring,
        configuration: { findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }) },
        listener: (provider, callback) => (req, res) => {
          if (!req.url?.startsWith('/interaction/')) return void callback(req, res);
          // Stands in for our login and consent pages: the citizen logs in and agrees.
          void (async () => {
            const details = await provider.interactionDetails(req, res);
            const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
            grant.addOIDCScope('openid');
            const grantId = await grant.save();
            await provider.interactionFinished(req, res, { login: { accountId, acr: 'eidas1' }, consent: { grantId } }, { mergeWithLastSubmission: false });
          })().catch(() => {
            res.statusCode = 500;
            res.end();
          });
        },
      });
      issuer = server.issuer;
    });
    after(async () => {
      await server.close();
      await t.close();
    });

    /** Follows the front channel by hand (cookies kept) until the redirect to the client. */
    async function authorizationCode(verifier: string): Promise<string> {
      const jar = new Map<string, string>();
      const get = async (url: string): Promise<string> => {
        const res = await fetch(new URL(url, issuer), { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
        for (const c of res.headers.getSetCookie()) {
          const [pair] = c.split(';');
          const i = pair?.indexOf('=') ?? -1;
          if (pair && i > 0) jar.set(pair.slice(0, i), pair.slice(i + 1));
        }
        assert.ok([302, 303].includes(res.status), `${res.status} ${await res.text()}`);
        return res.headers.get('location') ?? '';
      };
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const q = new URLSearchParams({ client_id: client.id, response_type: 'code', scope: 'openid', redirect_uri: redirectUri, state: 's1', nonce: 'n1', code_challenge: challenge, code_challenge_method: 'S256' });
      let location = await get(`/auth?${q}`);
      for (let hops = 0; !location.startsWith(redirectUri) && hops < 5; hops++) location = await get(location);
      const code = new URL(location).searchParams.get('code');
      assert.ok(code, location);
      return code;
    }

    const exchange = (code: string, verifier: string): Promise<Response> =>
      fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }).toString(),
      });
    const userinfo = (token: string): Promise<Response> => fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${token}` } });

    test('20 simultaneous exchanges of one code: one token, the replays revoke it', async () => {
      const verifier = randomBytes(32).toString('base64url');
      const code = await authorizationCode(verifier);
      const responses = await Promise.all(Array.from({ length: 20 }, () => exchange(code, verifier)));
      const bodies = await Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as { access_token?: string; id_token?: string; error?: string } })));
      const won = bodies.filter((b) => b.status === 200);
      assert.equal(won.length, 1, JSON.stringify(bodies.map((b) => b.status)));
      for (const lost of bodies.filter((b) => b.status !== 200)) assert.equal(lost.body.error, 'invalid_grant');
      const token = won[0]?.body.access_token ?? '';
      assert.ok(won[0]?.body.id_token);
      assert.equal((await userinfo(token)).status, 401, 'the grant was revoked by the replays');
    });

    test('a code exchanged once works; replaying it later revokes the token it gave', async () => {
      const verifier = randomBytes(32).toString('base64url');
      const code = await authorizationCode(verifier);
      const first = await exchange(code, verifier);
      assert.equal(first.status, 200);
      const { access_token: token } = (await first.json()) as { access_token: string };
      const me = await userinfo(token);
      assert.equal(me.status, 200, await me.clone().text());
      assert.equal(((await me.json()) as { sub: string }).sub, accountId);
      const replay = await exchange(code, verifier);
      assert.equal(replay.status, 400);
      assert.equal(((await replay.json()) as { error: string }).error, 'invalid_grant');
      assert.equal((await userinfo(token)).status, 401);
    });

    test('a code is never stored in clear', async () => {
      const verifier = randomBytes(32).toString('base64url');
      const code = await authorizationCode(verifier);
      const { rows } = await t.superuser(`SELECT * FROM oidc_payloads`);
      const dump = JSON.stringify(rows.map((r: Record<string, unknown>) => Object.values(r).map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : String(v)))));
      assert.equal(dump.includes(code), false);
      assert.equal((await exchange(code, verifier)).status, 200);
    });

    // Last: it disables the suite's client.
    test('a disabled client: the access token it already holds stops working at once', async () => {
      const verifier = randomBytes(32).toString('base64url');
      const code = await authorizationCode(verifier);
      const { access_token: token } = (await (await exchange(code, verifier)).json()) as { access_token: string };
      assert.equal((await userinfo(token)).status, 200);
      await system(t.db, 'test', (tx) => disableClient(tx, systemClock, client.id));
      const refused = await userinfo(token);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /invalid_token/);
    });
  });
}
