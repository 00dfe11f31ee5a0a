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
      assert.equal(rotate.code, 1);
      assert.match(rotate.stderr, /private_key_jwt/);
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
      assert.deepEqual(names.sort(), ['Batch CAF', 'Impots', 'Mon compte formation', 'Service test']);
    });
  });
}
