import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import type Provider from 'oidc-provider';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { createClient } from '../../src/oidc/clients.ts';
import { replaceSigningKeys } from '../../src/oidc/key-reload.ts';
import { createOidcProvider } from '../../src/oidc/provider.ts';
import { createOidcStore } from '../../src/oidc/adapter.ts';
import {
  ensureSigningKeys,
  listSigningKeys,
  loadSigningKeys,
  rewrapSigningKeys,
  rotateSigningKey,
  signingKeysByKek,
  watchSigningKeys,
  type ProviderSigningKeys,
  type SigningKeyPolicy,
} from '../../src/oidc/signing-keys.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { cliWorkspace, type CliWorkspace } from '../support/cli-workspace.ts';
import { sesame } from '../support/cli.ts';

/**
 * The provider's signing keys: made on first start (ES256 and RS256), sealed by the KEK, rotated
 * so that a new key is in the JWKS a propagation delay before it signs and an old one stays
 * there the retention period after it stopped; ID tokens signed ES256 by default and RS256 for
 * a client that asks, both verifiable against the public JWKS the provider serves.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const policy: SigningKeyPolicy = { propagationMs: HOUR, retentionMs: 2 * HOUR, reloadMs: MINUTE };
const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

const kidsOf = (jwks: { keys: { kid?: string | undefined }[] }): string[] => jwks.keys.map((k) => k.kid ?? '?').sort();

for (const backend of backends()) {
  describe(`OpenID signing keys on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    const clock = new ManualClock('2026-03-02T08:00:00Z');
    const ring = KeyRing.generate('kek-one');
    const rotate = (alg: 'ES256' | 'RS256'): ReturnType<typeof rotateSigningKey> =>
      system(t.db, 'test', (tx) => rotateSigningKey(tx, ring, clock, alg, policy, 'ops.test'));
    const audits = async (): Promise<{ type: string; actor: string; payload: Record<string, unknown> }[]> =>
      (await t.superuser(`SELECT type, actor, payload FROM audit_log WHERE type LIKE 'oidc.signing-key-%' ORDER BY seq`)).rows as { type: string; actor: string; payload: Record<string, unknown> }[];

    before(async () => {
      t = await backend.open();
    });
    after(() => t?.close());

    let first: ProviderSigningKeys;

    test('first start: one ES256 and one RS256 key, signing at once, made once even by servers starting together', async () => {
      const created = (await Promise.all([ensureSigningKeys(t.db, ring, clock), ensureSigningKeys(t.db, ring, clock), ensureSigningKeys(t.db, ring, clock)])).flat();
      assert.deepEqual(created.map((k) => k.alg).sort(), ['ES256', 'RS256']);
      assert.equal((await system(t.db, 'test', (tx) => listSigningKeys(tx))).length, 2);
      assert.deepEqual(await ensureSigningKeys(t.db, ring, clock), [], 'nothing more on the next start');
      first = await loadSigningKeys(t.db, ring, clock);
      assert.deepEqual(first.keys.map((k) => k.alg), ['ES256', 'RS256']);
      assert.deepEqual(first.signers, { ES256: first.keys[0]?.kid, RS256: first.keys[1]?.kid });
      assert.equal(first.keys[0]?.crv, 'P-256');
      assert.equal(first.keys[1]?.kty, 'RSA');
      assert.ok(Buffer.from(first.keys[1]?.n ?? '', 'base64url').length >= 256, 'RSA 2048 bits at least');
      for (const k of first.keys) {
        assert.equal(k.use, 'sig');
        assert.ok(k.d, 'the provider gets private keys');
      }
      for (const k of first.publicJwks.keys) for (const m of PRIVATE) assert.equal(m in k, false, `no ${m} in the public JWKS`);
      assert.equal(first.nextChangeAt, null);
      assert.deepEqual(
        (await audits()).map((e) => [e.type, e.payload.alg, e.payload.reason, e.actor]).sort(),
        [
          ['oidc.signing-key-created', 'ES256', 'first-start', 'system:oidc:signing-keys'],
          ['oidc.signing-key-created', 'RS256', 'first-start', 'system:oidc:signing-keys'],
        ],
      );
    });

    test('private keys are sealed at rest: no private member of a JWK in the table', async () => {
      const dump = JSON.stringify((await t.superuser(`SELECT *, encode(sealed_private_jwk, 'escape') AS raw FROM oidc_signing_keys`)).rows);
      assert.equal(dump.includes('"d"'), false);
      assert.equal(dump.includes('\\"d\\"'), false);
      for (const k of first.keys) {
        assert.equal(dump.includes(k.d as string), false, 'd is nowhere');
        assert.equal(dump.includes(Buffer.from(k.d as string, 'base64url').toString('hex')), false, 'nor its bytes');
      }
      assert.ok(dump.includes(first.publicJwks.keys[0]?.x as string), 'the public part is kept in clear');
      // The public column cannot hold a private member, whatever the code does.
      await assert.rejects(t.superuser(`UPDATE oidc_signing_keys SET public_jwk = public_jwk || '{"d":"x"}'`), /check constraint/);
    });

    test('rotation: the new key is published before it signs; the old one stays until its tokens have expired', async () => {
      clock.advance(24 * HOUR);
      const rotatedAt = clock.now().getTime();
      const [oldEs, oldRs] = [first.signers.ES256, first.signers.RS256];
      const r = await rotate('ES256');
      assert.equal(r.outcome, 'rotated');
      if (r.outcome !== 'rotated') return;
      assert.equal(r.retired?.kid, oldEs);
      assert.equal(r.key.activeFrom.getTime(), rotatedAt + HOUR);
      assert.equal(r.retired?.retiredAt?.getTime(), rotatedAt + HOUR, 'the old key stops when the new one starts: never both, never neither');
      assert.equal(r.retired?.removeAfter?.getTime(), rotatedAt + 3 * HOUR);

      // Published at once, not signing yet.
      const now = await loadSigningKeys(t.db, ring, clock);
      assert.deepEqual(kidsOf(now.publicJwks), [oldEs, oldRs, r.key.kid].sort());
      assert.equal(now.signers.ES256, oldEs);
      assert.equal(now.keys[0]?.kid, oldEs, 'the signer is the first ES256 key (oidc-provider signs with the first)');
      assert.equal(now.nextChangeAt?.getTime(), rotatedAt + HOUR);
      assert.notEqual(now.version, first.version);

      // A second rotation before the first has taken effect is refused.
      const again = await rotate('ES256');
      assert.equal(again.outcome, 'under-way');

      clock.advance(HOUR - 1000);
      assert.equal((await loadSigningKeys(t.db, ring, clock)).signers.ES256, oldEs, 'still the old key a second before');

      clock.advance(1000);
      const switched = await loadSigningKeys(t.db, ring, clock);
      assert.equal(switched.signers.ES256, r.key.kid);
      assert.equal(switched.keys[0]?.kid, r.key.kid);
      assert.deepEqual(switched.keys.map((k) => k.kid), [r.key.kid, oldEs, oldRs], 'the retired key is kept, behind the signer');
      assert.equal(switched.signers.RS256, oldRs, 'the other algorithm is untouched');

      clock.advance(2 * HOUR - 1000);
      assert.ok(kidsOf((await loadSigningKeys(t.db, ring, clock)).publicJwks).includes(oldEs), 'kept until the retention has passed');
      clock.advance(1000);
      const later = await loadSigningKeys(t.db, ring, clock);
      assert.deepEqual(kidsOf(later.publicJwks), [oldRs, r.key.kid].sort(), 'then gone from the JWKS');
      assert.equal(later.nextChangeAt, null);

      // The next rotation deletes it for good (private part included).
      const rs = await rotate('RS256');
      assert.ok(rs.outcome === 'rotated' && rs.deleted.includes(oldEs));
      assert.equal((await t.superuser(`SELECT count(*)::int AS n FROM oidc_signing_keys WHERE kid = $1`, [oldEs])).rows[0].n, 0);
      assert.deepEqual(
        (await audits()).slice(2).map((e) => [e.type, e.payload.kid, e.actor]),
        [
          ['oidc.signing-key-created', r.key.kid, 'operator:ops.test'],
          ['oidc.signing-key-retired', oldEs, 'operator:ops.test'],
          ['oidc.signing-key-deleted', oldEs, 'operator:ops.test'],
          ['oidc.signing-key-created', rs.outcome === 'rotated' ? rs.key.kid : '', 'operator:ops.test'],
          ['oidc.signing-key-retired', oldRs, 'operator:ops.test'],
        ],
      );
      clock.advance(HOUR);
    });

    test('a running server learns a rotation and rebuilds at the switch (watchSigningKeys)', async () => {
      const changes: ProviderSigningKeys[] = [];
      const current = await loadSigningKeys(t.db, ring, clock);
      const watcher = watchSigningKeys({ db: t.db, ring, clock, current, onChange: (k) => changes.push(k), onError: (err) => assert.fail(err), intervalMs: 3600_000 });
      try {
        await watcher.check();
        assert.equal(changes.length, 0, 'nothing changed');
        const r = await rotate('ES256');
        assert.equal(r.outcome, 'rotated');
        await watcher.check();
        assert.equal(changes.length, 1, 'the new key is published');
        assert.equal(changes[0]?.signers.ES256, current.signers.ES256, 'but does not sign yet');
        clock.advance(HOUR);
        await watcher.check();
        assert.equal(changes.length, 2);
        assert.equal(changes[1]?.signers.ES256, r.outcome === 'rotated' ? r.key.kid : '');
      } finally {
        watcher.stop();
      }
    });

    test('KEK rotation re-wraps the signing keys; they stay readable without the old KEK', async () => {
      ring.adopt(ring.withNewKek('kek-two'));
      assert.ok(((await signingKeysByKek(t.db)).get('kek-one') ?? 0) > 0);
      const n = await system(t.db, 'test', (tx) => rewrapSigningKeys(tx, ring));
      assert.ok(n > 0);
      assert.deepEqual([...(await signingKeysByKek(t.db)).keys()], ['kek-two']);
      const keys = await loadSigningKeys(t.db, ring.withoutKek('kek-one'), clock);
      assert.equal(keys.keys.length, (await loadSigningKeys(t.db, ring, clock)).keys.length);
    });
  });

  describe(`ID tokens signed with the stored keys on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let server: Server;
    let provider: Provider;
    let issuer: string;
    let keys: ProviderSigningKeys;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock(new Date());
    const rsClientId = 'rs256-client-0123456789';
    let esClientId: string;

    before(async () => {
      t = await backend.open();
      keys = await loadSigningKeys(t.db, ring, clock);
      esClientId = (
        await system(t.db, 'test', (tx) =>
          createClient(tx, ring, clock, { name: 'Service ES', redirectUris: ['https://es.example.gouv.fr/cb'], scopes: 'openid', clientCredentials: false }, 'operator:test'),
        )
      ).client.clientId;
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      provider = createOidcProvider({
        issuer,
        store: createOidcStore({ db: t.db, ring, clock }),
        signingKeys: keys.keys,
        cookieKeys: [randomBytes(32).toString('base64url')],
        // A client that asks for RS256 (the registry gives ES256 to every client for now).
        configuration: {
          clients: [{ client_id: rsClientId, client_secret: randomBytes(32).toString('base64url'), redirect_uris: ['https://rs.example.gouv.fr/cb'], id_token_signed_response_alg: 'RS256' }],
        },
      });
      server.on('request', provider.callback() as RequestListener);
    });
    after(async () => {
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      await t?.close();
    });

    const idToken = async (clientId: string): Promise<string> => {
      const client = await provider.Client.find(clientId);
      assert.ok(client, clientId);
      const token = new provider.IdToken({}, { client });
      token.set('sub', 'citizen-1');
      return token.issue({ use: 'idtoken' });
    };

    test('the provider serves exactly the public JWKS of the store', async () => {
      const served = (await (await fetch(`${issuer}/jwks`)).json()) as JSONWebKeySet;
      assert.deepEqual(kidsOf(served), kidsOf(keys.publicJwks));
      for (const k of served.keys) for (const m of PRIVATE) assert.equal(m in k, false);
      const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { id_token_signing_alg_values_supported: string[] };
      assert.deepEqual(discovery.id_token_signing_alg_values_supported.sort(), ['ES256', 'RS256']);
    });

    test('an ID token is signed ES256 by default and verifies against the public JWKS', async () => {
      const jwt = await idToken(esClientId);
      const header = decodeProtectedHeader(jwt);
      assert.deepEqual([header.alg, header.kid], ['ES256', keys.signers.ES256]);
      const { payload } = await jwtVerify(jwt, createLocalJWKSet(keys.publicJwks as JSONWebKeySet), { issuer, audience: esClientId, algorithms: ['ES256'] });
      assert.equal(payload.sub, 'citizen-1');
    });

    test('a client registered for RS256 gets RS256, verifiable too', async () => {
      const jwt = await idToken(rsClientId);
      const header = decodeProtectedHeader(jwt);
      assert.deepEqual([header.alg, header.kid], ['RS256', keys.signers.RS256]);
      const served = (await (await fetch(`${issuer}/jwks`)).json()) as JSONWebKeySet;
      await jwtVerify(jwt, createLocalJWKSet(served), { issuer, audience: rsClientId, algorithms: ['RS256'] });
    });

    test('a running provider takes the rotated keys without a restart: published first, signing at the switch; old tokens still verify', async () => {
      const oldToken = await idToken(esClientId);
      const r = await system(t.db, 'test', (tx) => rotateSigningKey(tx, ring, clock, 'ES256', policy));
      assert.equal(r.outcome, 'rotated');
      const newKid = r.outcome === 'rotated' ? r.key.kid : '';
      // What the server's watcher does (src/server.ts): reload, then replace the running provider's keys.
      replaceSigningKeys(provider, (await loadSigningKeys(t.db, ring, clock)).keys);
      const published = (await (await fetch(`${issuer}/jwks`)).json()) as JSONWebKeySet;
      assert.ok(kidsOf(published).includes(newKid), 'the new key is in the JWKS before it signs');
      assert.equal(decodeProtectedHeader(await idToken(esClientId)).kid, keys.signers.ES256, 'the old key still signs');
      clock.advance(HOUR);
      const next = await loadSigningKeys(t.db, ring, clock);
      replaceSigningKeys(provider, next.keys);
      const jwt = await idToken(esClientId);
      assert.equal(decodeProtectedHeader(jwt).kid, newKid);
      assert.equal(next.signers.ES256, newKid);
      const served = (await (await fetch(`${issuer}/jwks`)).json()) as JSONWebKeySet;
      assert.deepEqual(kidsOf(served), kidsOf(next.publicJwks));
      for (const k of served.keys) for (const m of PRIVATE) assert.equal(m in k, false);
      const jwks = createLocalJWKSet(served);
      await jwtVerify(jwt, jwks, { issuer, audience: esClientId });
      await jwtVerify(oldToken, jwks, { issuer, audience: esClientId });
    });
  });

  describe(`sesame keys rotate-signing on ${backend.name}`, { skip: backend.skip }, () => {
    let ws: CliWorkspace;
    before(async () => {
      ws = await cliWorkspace(backend, { prefix: 'sesame-signing-cli-', user: 'ops.martin' });
    });
    after(() => ws?.close());

    test('rotate-signing --json: a new key published now, signing after the delay; status shows it', async () => {
      const r = await sesame(['keys', 'rotate-signing', '--json'], ws.env);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { alg: string; kid: string; published_at: string; active_from: string; retired: { kid: string; remove_after: string } | null };
      assert.equal(out.alg, 'ES256');
      assert.match(out.kid, /^es256-\d{8}-[0-9a-f]{12}$/);
      assert.equal(Date.parse(out.active_from) - Date.parse(out.published_at), HOUR, 'the default delay is one hour');
      assert.ok(out.retired, 'the first-start key is retired');
      assert.equal(Date.parse(out.retired.remove_after) - Date.parse(out.active_from), 8 * HOUR);

      const again = await sesame(['keys', 'rotate-signing'], ws.env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /under way/);

      const rs = await sesame(['keys', 'rotate-signing', '--alg', 'RS256'], { ...ws.env, SESAME_OIDC_SIGNING_KEY_DELAY_SECONDS: '600' });
      assert.equal(rs.code, 0, rs.stderr);
      assert.match(rs.stdout, /new RS256 signing key rs256-/);

      const status = await sesame(['keys', 'status'], ws.env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, new RegExp(`${out.kid}\\s+ES256\\s+in the JWKS, signs from ${out.active_from}`));
      assert.match(status.stdout, new RegExp(`${out.retired.kid}\\s+ES256\\s+signing`));
      assert.match(status.stdout, /kek-test: 0 data keys, 4 signing keys/);
    });

    test('keys rotate re-wraps the signing keys too, so the old KEK can be retired', async () => {
      const before = await ws.keys();
      const r = await sesame(['keys', 'rotate', '--wait-seconds', '0'], ws.env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /re-wrapped 4 OpenID signing keys/);
      const after = await ws.keys();
      const status = await sesame(['keys', 'status'], ws.env);
      assert.match(status.stdout, new RegExp(`\\* ${after.currentKekId}: 0 data keys, 4 signing keys`));
      const retired = await sesame(['keys', 'retire', '--kek', before.currentKekId], ws.env);
      assert.equal(retired.code, 0, retired.stderr);
      const keys = await ws.withDb((db) => loadSigningKeys(db, after, new ManualClock(new Date())));
      assert.equal(keys.keys.length, 4, 'every signing key readable under the new KEK alone');
    });

    const BAD: [string, string[], RegExp][] = [
      ['unknown algorithm', ['--alg', 'HS256'], /--alg: must be one of ES256, RS256/],
      ['no value', ['--alg'], /--alg/],
      ['unknown flag', ['--kid', 'x'], /--kid/],
    ];
    for (const [what, args, message] of BAD) {
      test(`bad flags exit 2 naming the flag: ${what}`, async () => {
        const r = await sesame(['keys', 'rotate-signing', ...args], ws.env);
        assert.equal(r.code, 2, r.stdout);
        assert.match(r.stderr, message);
        assert.equal(r.stdout, '');
      });
    }

    test('a delay below five minutes is refused, naming the variable', async () => {
      const r = await sesame(['keys', 'rotate-signing', '--alg', 'RS256'], { ...ws.env, SESAME_OIDC_SIGNING_KEY_DELAY_SECONDS: '10' });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /SESAME_OIDC_SIGNING_KEY_DELAY_SECONDS/);
    });
  });
}
