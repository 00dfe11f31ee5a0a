import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/clock.ts';
import type { KeyRing } from '../../src/crypto/keyring.ts';
import type { OpenDatabase } from '../../src/db/open.ts';
import { createOidcStore } from '../../src/oidc/adapter.ts';
import { RegistryClientAdapter } from '../../src/oidc/client-adapter.ts';
import { secretMatches } from '../../src/oidc/client-secret.ts';
import { backends } from '../support/databases.ts';
import { cliWorkspace, type CliWorkspace } from '../support/cli-workspace.ts';
import { sesame } from '../support/cli.ts';

/**
 * `sesame clients create|list|show|disable|rotate-secret`: a client registered on the command
 * line is what the provider's Client model finds, with its secret checked by MAC only; a
 * rotated secret replaces the old one at once; a disabled client does not exist for the
 * provider; wrong flags exit 2 naming the flag.
 */
for (const backend of backends()) {
  describe(`sesame clients on ${backend.name}`, { skip: backend.skip }, () => {
    let ws: CliWorkspace;
    let env: NodeJS.ProcessEnv;
    let ring: KeyRing;

    /** The database as the server would open it, between two commands. */
    const withDb = <T>(fn: (db: OpenDatabase) => Promise<T>): Promise<T> => ws.withDb(fn, { poolSize: 2 });
    const providerFinds = (clientId: string): Promise<Record<string, unknown> | undefined> =>
      withDb(async (db) => (await new RegistryClientAdapter(createOidcStore({ db, ring, clock: systemClock })).find(clientId)) as Record<string, unknown> | undefined);

    before(async () => {
      ws = await cliWorkspace(backend, { prefix: 'sesame-clients-cli-', user: 'ops.durand' });
      ({ env, ring } = ws);
    });
    after(() => ws?.close());

    test('create --json, then list, show, rotate-secret and disable', async () => {
      const created = await sesame(
        [
          'clients', 'create', '--name', 'Mon compte formation',
          '--redirect-uri', 'https://mcf.example.gouv.fr/oidc/callback',
          '--redirect-uri', 'http://localhost:3000/callback',
          '--scopes', 'openid identite_pivot email',
          '--acr-min', 'eidas1', '--acr-default', 'eidas2',
          '--auth-method', 'client_secret_post', '--json',
        ],
        env,
      );
      assert.equal(created.code, 0, created.stderr);
      const c = JSON.parse(created.stdout) as { client_id: string; client_secret: string; scopes: string[]; acr_default: string; redirect_uris: string[] };
      assert.match(c.client_id, /^[A-Za-z0-9_-]{24}$/);
      assert.match(c.client_secret, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(c.scopes, ['openid', 'identite_pivot', 'email']);
      assert.equal(c.acr_default, 'eidas2');

      // What the provider sees: the registered metadata and a MAC, never the secret.
      const meta = await providerFinds(c.client_id);
      assert.ok(meta);
      assert.deepEqual(meta.redirect_uris, ['https://mcf.example.gouv.fr/oidc/callback', 'http://localhost:3000/callback']);
      assert.equal(meta.token_endpoint_auth_method, 'client_secret_post');
      assert.equal(meta.scope, 'openid identite_pivot email');
      assert.deepEqual(meta.default_acr_values, ['eidas2']);
      assert.equal(meta.acr_min, 'eidas1');
      assert.deepEqual(meta.grant_types, ['authorization_code']);
      assert.notEqual(meta.client_secret, c.client_secret);
      assert.ok(secretMatches(ring, c.client_id, meta.client_secret as string, c.client_secret));
      assert.equal(secretMatches(ring, c.client_id, meta.client_secret as string, `${c.client_secret}x`), false);

      // The secret is nowhere at rest: not in the database files (PGlite) nor its rows.
      const rows = await withDb((db) => db.runAsOwner(async (q) => (await q.query(`SELECT * FROM oidc_clients`)).rows));
      assert.equal(JSON.stringify(rows).includes(c.client_secret), false);

      const list = await sesame(['clients', 'list'], env);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, new RegExp(`${c.client_id}  active\\s+client_secret_post\\s+Mon compte formation`));
      const show = await sesame(['clients', 'show', '--client-id', c.client_id], env);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /acr:\s+minimum eidas1, default eidas2/);
      assert.match(show.stdout, /created:.*by operator:ops\.durand/);
      assert.equal(show.stdout.includes(c.client_secret), false, 'show never prints the secret');

      const rotated = await sesame(['clients', 'rotate-secret', '--client-id', c.client_id, '--json'], env);
      assert.equal(rotated.code, 0, rotated.stderr);
      const r = JSON.parse(rotated.stdout) as { client_id: string; client_secret: string };
      assert.notEqual(r.client_secret, c.client_secret);
      const afterRotation = await providerFinds(c.client_id);
      assert.ok(secretMatches(ring, c.client_id, afterRotation?.client_secret as string, r.client_secret));
      assert.equal(secretMatches(ring, c.client_id, afterRotation?.client_secret as string, c.client_secret), false, 'the old secret stops working');

      const disabled = await sesame(['clients', 'disable', '--client-id', c.client_id], env);
      assert.equal(disabled.code, 0, disabled.stderr);
      assert.match(disabled.stdout, new RegExp(`disabled ${c.client_id}`));
      assert.equal(await providerFinds(c.client_id), undefined, 'a disabled client is not found by the provider');
      const again = await sesame(['clients', 'disable', '--client-id', c.client_id], env);
      assert.match(again.stdout, /was already disabled/);
      const shown = await sesame(['clients', 'show', '--client-id', c.client_id, '--json'], env);
      assert.notEqual((JSON.parse(shown.stdout) as { disabled_at: string | null }).disabled_at, null);
      const noRotate = await sesame(['clients', 'rotate-secret', '--client-id', c.client_id], env);
      assert.equal(noRotate.code, 1);
      assert.match(noRotate.stderr, /--client-id: .* is disabled/);
    });

    test('private_key_jwt: no secret is issued, the JWKS URI is kept', async () => {
      const created = await sesame(
        ['clients', 'create', '--name', 'Impots', '--redirect-uri', 'https://impots.example.gouv.fr/cb', '--scopes', 'openid', '--auth-method', 'private_key_jwt', '--jwks-uri', 'https://impots.example.gouv.fr/jwks.json', '--json'],
        env,
      );
      assert.equal(created.code, 0, created.stderr);
      const c = JSON.parse(created.stdout) as { client_id: string; client_secret: string | null };
      assert.equal(c.client_secret, null);
      const meta = await providerFinds(c.client_id);
      assert.equal(meta?.jwks_uri, 'https://impots.example.gouv.fr/jwks.json');
      assert.equal(meta && 'client_secret' in meta, false);
      const rotate = await sesame(['clients', 'rotate-secret', '--client-id', c.client_id], env);
      assert.equal(rotate.code, 1, rotate.stderr);
      assert.match(rotate.stderr, /has no secret \(private_key_jwt or a public client\)/);
    });

    test('every option: RS256, userinfo signed then encrypted, refresh tokens, post-logout URIs, sector', async () => {
      const created = await sesame(
        [
          'clients', 'create', '--name', 'Cadastre',
          '--redirect-uri', 'https://cadastre.example.gouv.fr/cb',
          '--scopes', 'openid identite_pivot',
          '--id-token-alg', 'RS256',
          '--userinfo-alg', 'RS256', '--userinfo-enc-alg', 'RSA-OAEP-256', '--userinfo-enc', 'A256GCM',
          '--jwks-uri', 'https://cadastre.example.gouv.fr/jwks.json',
          '--refresh-tokens',
          '--post-logout-redirect-uri', 'https://cadastre.example.gouv.fr/bye',
          '--post-logout-redirect-uri', 'http://localhost:3000/bye',
          '--sector', 'dgfip.gouv.fr',
          '--json',
        ],
        env,
      );
      assert.equal(created.code, 0, created.stderr);
      const c = JSON.parse(created.stdout) as Record<string, unknown> & { client_id: string };
      assert.match(String(c.client_secret), /^[A-Za-z0-9_-]{43}$/, 'client_secret_basic by default: a secret');
      assert.equal(c.id_token_alg, 'RS256');
      assert.equal(c.userinfo_alg, 'RS256');
      assert.equal(c.userinfo_enc_alg, 'RSA-OAEP-256');
      assert.equal(c.userinfo_enc, 'A256GCM');
      assert.equal(c.refresh_tokens, true);
      assert.deepEqual(c.post_logout_redirect_uris, ['https://cadastre.example.gouv.fr/bye', 'http://localhost:3000/bye']);
      assert.equal(c.sector, 'dgfip.gouv.fr');

      const meta = await providerFinds(c.client_id);
      assert.ok(meta);
      assert.equal(meta.id_token_signed_response_alg, 'RS256');
      assert.equal(meta.userinfo_signed_response_alg, 'RS256');
      assert.equal(meta.userinfo_encrypted_response_alg, 'RSA-OAEP-256');
      assert.equal(meta.userinfo_encrypted_response_enc, 'A256GCM');
      assert.equal(meta.jwks_uri, 'https://cadastre.example.gouv.fr/jwks.json');
      assert.equal(meta.token_endpoint_auth_method, 'client_secret_basic');
      assert.deepEqual(meta.grant_types, ['authorization_code', 'refresh_token']);
      assert.deepEqual(meta.post_logout_redirect_uris, ['https://cadastre.example.gouv.fr/bye', 'http://localhost:3000/bye']);
      assert.equal(meta.sector, 'dgfip.gouv.fr');

      const show = await sesame(['clients', 'show', '--client-id', c.client_id], env);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /ID token:\s+signed RS256/);
      assert.match(show.stdout, /userinfo:\s+JWT signed RS256, encrypted RSA-OAEP-256 A256GCM/);
      assert.match(show.stdout, /refresh tokens: yes/);
      assert.match(show.stdout, /logout URIs:\s+https:\/\/cadastre\.example\.gouv\.fr\/bye http:\/\/localhost:3000\/bye/);
      assert.match(show.stdout, /sub:\s+pairwise, shared by the sector dgfip\.gouv\.fr/);
      const listed = JSON.parse((await sesame(['clients', 'list', '--json'], env)).stdout) as { client_id: string; sector: string | null; refresh_tokens: boolean }[];
      const mine = listed.find((x) => x.client_id === c.client_id);
      assert.equal(mine?.sector, 'dgfip.gouv.fr');
      assert.equal(mine?.refresh_tokens, true);
    });

    test('the defaults: ES256, JSON userinfo, no refresh token, no logout URI, the client its own sector', async () => {
      const created = await sesame(['clients', 'create', '--name', 'Défauts', '--redirect-uri', 'https://d.example.fr/cb', '--scopes', 'openid', '--json'], env);
      assert.equal(created.code, 0, created.stderr);
      const c = JSON.parse(created.stdout) as Record<string, unknown> & { client_id: string };
      assert.equal(c.id_token_alg, 'ES256');
      assert.equal(c.userinfo_alg, null);
      assert.equal(c.refresh_tokens, false);
      assert.deepEqual(c.post_logout_redirect_uris, []);
      assert.equal(c.sector, null);
      const meta = await providerFinds(c.client_id);
      assert.equal(meta?.id_token_signed_response_alg, 'ES256');
      assert.deepEqual(meta?.grant_types, ['authorization_code']);
      for (const k of ['userinfo_signed_response_alg', 'userinfo_encrypted_response_alg', 'post_logout_redirect_uris', 'sector']) assert.equal(meta && k in meta, false, k);
      const show = await sesame(['clients', 'show', '--client-id', c.client_id], env);
      assert.match(show.stdout, /userinfo:\s+JSON/);
      assert.match(show.stdout, /sub:\s+pairwise, own to this client/);
    });

    test('a public client (--auth-method none): no secret, PKCE required, no secret to rotate', async () => {
      const created = await sesame(['clients', 'create', '--name', 'Appli mobile', '--redirect-uri', 'http://127.0.0.1:8765/cb', '--scopes', 'openid', '--auth-method', 'none', '--json'], env);
      assert.equal(created.code, 0, created.stderr);
      const c = JSON.parse(created.stdout) as { client_id: string; client_secret: string | null };
      assert.equal(c.client_secret, null);
      const meta = await providerFinds(c.client_id);
      assert.equal(meta?.token_endpoint_auth_method, 'none');
      assert.equal(meta && 'client_secret' in meta, false);
      const show = await sesame(['clients', 'show', '--client-id', c.client_id], env);
      assert.match(show.stdout, /auth method:\s+none \(public client: PKCE S256 required\)/);
      const text = await sesame(['clients', 'create', '--name', 'Appli 2', '--redirect-uri', 'http://127.0.0.1:8766/cb', '--scopes', 'openid', '--auth-method', 'none'], env);
      assert.equal(text.code, 0, text.stderr);
      assert.equal(/client_secret/.test(text.stdout), false, 'no secret printed');
      const rotate = await sesame(['clients', 'rotate-secret', '--client-id', c.client_id], env);
      assert.equal(rotate.code, 1, rotate.stderr);
      assert.match(rotate.stderr, /has no secret/);
    });

    test('the commands are audited, by operator, without the secret', async () => {
      const created = await sesame(['clients', 'create', '--name', 'Audité', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid email', '--refresh-tokens', '--json'], env);
      assert.equal(created.code, 0, created.stderr);
      const c = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
      const rotated = JSON.parse((await sesame(['clients', 'rotate-secret', '--client-id', c.client_id, '--json'], env)).stdout) as { client_secret: string };
      assert.equal((await sesame(['clients', 'disable', '--client-id', c.client_id], env)).code, 0);
      assert.equal((await sesame(['clients', 'disable', '--client-id', c.client_id], env)).code, 0, 'a second disable changes nothing…');
      const events = await withDb((db) =>
        db.runAsOwner(async (q) => (await q.query<{ type: string; actor: string; account_id: string | null; payload: Record<string, unknown> }>(`SELECT type, actor, account_id, payload FROM audit_log WHERE payload->>'clientId' = $1 ORDER BY seq`, [c.client_id])).rows),
      );
      assert.deepEqual(events.map((e) => e.type), ['oidc.client-created', 'oidc.client-secret-rotated', 'oidc.client-disabled'], '…and is not audited');
      assert.ok(events.every((e) => e.actor === 'operator:ops.durand' && e.account_id === null));
      assert.deepEqual(events[0]?.payload, { clientId: c.client_id, authMethod: 'client_secret_basic', scopes: ['openid', 'email'], grantTypes: ['authorization_code', 'refresh_token'] });
      const all = JSON.stringify(events);
      assert.equal(all.includes(c.client_secret) || all.includes(rotated.client_secret), false, 'no secret in the audit log');
    });

    test('a machine client: client credentials without redirect URI', async () => {
      const created = await sesame(['clients', 'create', '--name', 'Batch CAF', '--scopes', 'openid', '--client-credentials', '--json'], env);
      assert.equal(created.code, 0, created.stderr);
      const meta = await providerFinds((JSON.parse(created.stdout) as { client_id: string }).client_id);
      assert.deepEqual(meta?.grant_types, ['client_credentials']);
      assert.deepEqual(meta?.response_types, []);
    });

    test('the text output shows the secret once with what to do with it', async () => {
      const created = await sesame(['clients', 'create', '--name', 'Service test', '--redirect-uri', 'https://s.example.fr/cb', '--scopes', 'openid'], env);
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /^client_secret: [A-Za-z0-9_-]{43}$/m);
      assert.match(created.stdout, /shown only now/);
      assert.match(created.stdout, /auth method:\s+client_secret_basic/, 'the default method');
    });

    const BAD: [string, string[], RegExp][] = [
      ['no name', ['--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid'], /--name is required/],
      ['no scopes', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb'], /--scopes is required/],
      ['no redirect URI', ['--name', 'A', '--scopes', 'openid'], /--redirect-uri: is required/],
      ['http redirect', ['--name', 'A', '--redirect-uri', 'http://a.example.fr/cb', '--scopes', 'openid'], /--redirect-uri: must use https/],
      ['fragment', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb#x', '--scopes', 'openid'], /--redirect-uri: must not contain a fragment/],
      ['wildcard', ['--name', 'A', '--redirect-uri', 'https://*.example.fr/cb', '--scopes', 'openid'], /--redirect-uri: .*wildcards/],
      ['userinfo', ['--name', 'A', '--redirect-uri', 'https://a.example.fr@evil.example/cb', '--scopes', 'openid'], /--redirect-uri: must not contain userinfo/],
      ['unknown scope', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid address'], /--scopes: unknown scope/],
      ['no openid', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'email'], /--scopes: must include openid/],
      ['acr', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--acr-min', 'eidas4'], /--acr-min: must be one of/],
      ['default below minimum', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--acr-min', 'eidas2', '--acr-default', 'eidas1'], /--acr-default: must not be below --acr-min/],
      ['auth method', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--auth-method', 'client_secret_jwt'], /--auth-method: must be one of/],
      ['jwks missing', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--auth-method', 'private_key_jwt'], /--jwks-uri: is required/],
      ['unknown flag', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--grant', 'implicit'], /--grant/],
      ['id token alg', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--id-token-alg', 'HS256'], /--id-token-alg: must be one of ES256, RS256/],
      ['userinfo alg none', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--userinfo-alg', 'none'], /--userinfo-alg: must be one of ES256, RS256/],
      ['symmetric encryption', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--userinfo-alg', 'ES256', '--userinfo-enc-alg', 'dir', '--jwks-uri', 'https://a.example.fr/jwks'], /--userinfo-enc-alg: must be one of ECDH-ES, RSA-OAEP, RSA-OAEP-256/],
      ['content encryption', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--userinfo-alg', 'ES256', '--userinfo-enc-alg', 'ECDH-ES', '--userinfo-enc', 'A192GCM', '--jwks-uri', 'https://a.example.fr/jwks'], /--userinfo-enc: must be one of/],
      ['encryption without keys', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--userinfo-alg', 'ES256', '--userinfo-enc-alg', 'ECDH-ES'], /--jwks-uri: is required with --userinfo-enc-alg/],
      ['encryption without signature', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--userinfo-enc-alg', 'ECDH-ES', '--jwks-uri', 'https://a.example.fr/jwks'], /--userinfo-enc-alg: needs --userinfo-alg/],
      ['enc without alg', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--userinfo-enc', 'A256GCM'], /--userinfo-enc: is only used with --userinfo-enc-alg/],
      ['jwks for nothing', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--jwks-uri', 'https://a.example.fr/jwks'], /--jwks-uri: is only used with --auth-method private_key_jwt or --userinfo-enc-alg/],
      ['http jwks', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--auth-method', 'private_key_jwt', '--jwks-uri', 'http://localhost/jwks'], /--jwks-uri: must be an absolute https URL/],
      ['public client with refresh tokens', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--auth-method', 'none', '--refresh-tokens'], /--refresh-tokens: is not allowed with --auth-method none/],
      ['public machine client', ['--name', 'A', '--scopes', 'openid', '--auth-method', 'none', '--client-credentials'], /--client-credentials: is not allowed with --auth-method none/],
      ['refresh tokens for a machine', ['--name', 'A', '--scopes', 'openid', '--client-credentials', '--refresh-tokens'], /--refresh-tokens: needs --redirect-uri/],
      ['http logout URI', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--post-logout-redirect-uri', 'http://a.example.fr/bye'], /--post-logout-redirect-uri: must use https/],
      ['logout URI with a fragment', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--post-logout-redirect-uri', 'https://a.example.fr/bye#x'], /--post-logout-redirect-uri: must not contain a fragment/],
      ['logout URI not normal', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--post-logout-redirect-uri', 'https://A.example.fr/bye'], /--post-logout-redirect-uri: must be in normal form/],
      ['logout URI for a machine', ['--name', 'A', '--scopes', 'openid', '--client-credentials', '--post-logout-redirect-uri', 'https://a.example.fr/bye'], /--post-logout-redirect-uri: needs --redirect-uri/],
      ['sector', ['--name', 'A', '--redirect-uri', 'https://a.example.fr/cb', '--scopes', 'openid', '--sector', 'DGFiP Sector'], /--sector: must be 1 to 63 lower-case/],
    ];
    for (const [what, args, message] of BAD) {
      test(`bad flags exit 2 naming the flag: ${what}`, async () => {
        const r = await sesame(['clients', 'create', ...args], env);
        assert.equal(r.code, 2, r.stdout);
        assert.match(r.stderr, message);
        assert.equal(r.stdout, '');
      });
    }
    test('show, disable and rotate-secret need a known --client-id', async () => {
      for (const cmd of ['show', 'disable', 'rotate-secret']) {
        assert.equal((await sesame(['clients', cmd], env)).code, 2);
        const unknown = await sesame(['clients', cmd, '--client-id', 'AAAAAAAAAAAAAAAAAAAAAAAA'], env);
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /--client-id: no client/);
      }
    });
    test('nothing registered with a bad flag', async () => {
      const list = await sesame(['clients', 'list', '--json'], env);
      const names = (JSON.parse(list.stdout) as { name: string }[]).map((c) => c.name);
      assert.deepEqual(names.sort(), ['Appli 2', 'Appli mobile', 'Audité', 'Batch CAF', 'Cadastre', 'Défauts', 'Impots', 'Mon compte formation', 'Service test']);
    });
  });
}
