import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { hmac } from '../../src/crypto/mac.ts';
import { randomToken } from '../../src/crypto/random.ts';
import { endAccountFederation } from '../../src/oidc/account-state.ts';
import { createOidcStore, PgAdapter, type OidcStore } from '../../src/oidc/adapter.ts';
import { purgeExpiredOidc } from '../../src/oidc/housekeeping.ts';
import { citizen } from '../../src/db/contexts.ts';
import { backends, type TestDatabase } from '../support/databases.ts';

/**
 * The adapter's contract, for every oidc-provider model, on PGlite and PostgreSQL: what is
 * saved is found until it expires (by our clock, not only once housekeeping ran), a code is
 * consumed once however many try at once, a grant's revocation takes exactly its rows, and
 * the table holds no token, code, session id or claim in clear.
 */
const MODELS = [
  'Session',
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'ClientCredentials',
  'Client',
  'InitialAccessToken',
  'RegistrationAccessToken',
  'Interaction',
  'ReplayDetection',
  'PushedAuthorizationRequest',
  'Grant',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
] as const;
const GRANTABLE = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode'] as const;
const EMAIL = 'jeanne.martin@example.fr';
const GIVEN_NAME = 'Théodorine';

function payloadFor(model: string, extra: Partial<AdapterPayload> = {}): AdapterPayload {
  return {
    iat: 1_700_000_000,
    exp: 1_700_000_060,
    kind: model,
    accountId: randomUUID(),
    clientId: 'client-abcdefghijklmnop',
    scope: 'openid email',
    // What a dump must not show: a login hint, a claim value, a nonce.
    params: { login_hint: EMAIL, nonce: 'n-0S6_WzA2Mj' },
    claims: { id_token: { given_name: { value: GIVEN_NAME } } },
    ...extra,
  } as AdapterPayload;
}

for (const backend of backends()) {
  describe(`oidc adapter contract on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let store: OidcStore;
    const ring = KeyRing.generate('kek-one');
    const clock = new ManualClock('2026-03-01T10:00:00Z');
    const adapter = (model: string): PgAdapter => new PgAdapter(model, store);
    const rowCount = async (where = 'true', params: unknown[] = []): Promise<number> =>
      Number((await t.superuser(`SELECT count(*)::int AS n FROM oidc_payloads WHERE ${where}`, params)).rows[0].n);

    before(async () => {
      t = await backend.open();
      store = createOidcStore({ db: t.db, ring, clock });
    });
    after(() => t.close());

    for (const model of MODELS) {
      test(`${model}: upsert then find returns the payload; destroy removes it`, async () => {
        const a = adapter(model);
        const id = randomToken();
        const payload = payloadFor(model, { jti: id });
        await a.upsert(id, payload, 600);
        assert.deepEqual(await a.find(id), payload);
        assert.equal(await a.find(randomToken()), undefined);
        // Another model never sees it under the same id.
        assert.equal(await adapter(model === 'Session' ? 'Grant' : 'Session').find(id), undefined);
        const changed = { ...payload, scope: 'openid' };
        await a.upsert(id, changed, 600);
        assert.deepEqual(await a.find(id), changed);
        await a.destroy(id);
        assert.equal(await a.find(id), undefined);
      });

      test(`${model}: an expired row is never returned, before and after housekeeping`, async () => {
        const a = adapter(model);
        const id = randomToken();
        await a.upsert(id, payloadFor(model, { uid: randomToken(), userCode: 'WDJB-MJHT' }), 60);
        clock.advance(59_000);
        assert.ok(await a.find(id));
        clock.advance(1_000);
        assert.equal(await a.find(id), undefined, 'expired at exactly expiresIn');
        const purged = await purgeExpiredOidc(t.db, ring, clock);
        assert.ok((purged.payloads ?? 0) >= 1);
        assert.equal(await a.find(id), undefined);
      });
    }

    test('a row saved without expiresIn does not expire', async () => {
      const a = adapter('Client');
      await a.upsert('client-no-expiry-0001', { client_id: 'client-no-expiry-0001' } as AdapterPayload);
      clock.advance(400 * 24 * 3600 * 1000);
      assert.deepEqual(await a.find('client-no-expiry-0001'), { client_id: 'client-no-expiry-0001' });
    });

    test('Session.findByUid finds the session until it expires, and only a Session', async () => {
      const a = adapter('Session');
      const id = randomToken();
      const uid = randomToken();
      const payload = payloadFor('Session', { jti: id, uid });
      await a.upsert(id, payload, 120);
      assert.deepEqual(await a.findByUid(uid), payload);
      assert.equal(await a.findByUid(randomToken()), undefined);
      assert.equal(await adapter('Interaction').findByUid(uid), undefined);
      // A session saved again under a new uid is no longer found by the old one.
      const uid2 = randomToken();
      await a.upsert(id, { ...payload, uid: uid2 }, 120);
      assert.equal(await a.findByUid(uid), undefined);
      assert.ok(await a.findByUid(uid2));
      clock.advance(121_000);
      assert.equal(await a.findByUid(uid2), undefined);
    });

    test('DeviceCode.findByUserCode finds the device code until it expires', async () => {
      const a = adapter('DeviceCode');
      const id = randomToken();
      const payload = payloadFor('DeviceCode', { jti: id, userCode: 'BCDFGHJK', grantId: randomToken() });
      await a.upsert(id, payload, 300);
      assert.deepEqual(await a.findByUserCode('BCDFGHJK'), payload);
      assert.equal(await a.findByUserCode('BCDFGHJL'), undefined);
      clock.advance(301_000);
      assert.equal(await a.findByUserCode('BCDFGHJK'), undefined);
    });

    test('consume: 20 parallel consumes of one code, exactly one wins', async () => {
      const a = adapter('AuthorizationCode');
      const id = randomToken();
      await a.upsert(id, payloadFor('AuthorizationCode', { grantId: randomToken() }), 30);
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => adapter('AuthorizationCode').consume(id)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { error?: string }).error, 'invalid_grant');
    });

    for (const model of ['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PushedAuthorizationRequest', 'PreAuthorizedCode']) {
      test(`${model}: consume marks the payload consumed, and a second consume fails`, async () => {
        const a = adapter(model);
        const id = randomToken();
        await a.upsert(id, payloadFor(model), 60);
        await a.consume(id);
        const found = await a.find(id);
        assert.equal(typeof found?.consumed, 'number');
        assert.equal(found?.consumed, Math.floor(clock.now().getTime() / 1000));
        await assert.rejects(a.consume(id), (e: { error?: string }) => e.error === (model === 'PushedAuthorizationRequest' ? 'invalid_request' : 'invalid_grant'));
        // Saving it again (as the provider may) never makes it usable again.
        await a.upsert(id, payloadFor(model), 60);
        assert.equal(typeof (await a.find(id))?.consumed, 'number');
      });
    }

    test('claim (replay detection): 20 claims of one id at once, exactly one wins; a live id is refused, an expired one taken again', async () => {
      const id = randomToken();
      const payload = { iss: 'client', jti: id, kind: 'ReplayDetection' } as AdapterPayload;
      const results = await Promise.all(Array.from({ length: 20 }, () => adapter('ReplayDetection').claim(id, payload, 60)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.deepEqual(await adapter('ReplayDetection').find(id), payload);
      clock.advance(59_000);
      assert.equal(await adapter('ReplayDetection').claim(id, payload, 60), false, 'still live');
      clock.advance(1_000);
      assert.equal(await adapter('ReplayDetection').claim(id, payload, 60), true, 'expired, not yet purged');
      assert.equal(await adapter('ReplayDetection').claim(id, payload, 60), false);
      assert.equal(await rowCount(`model = 'ReplayDetection'`), 1);
    });

    test('consume of an expired or unknown code fails', async () => {
      const a = adapter('AuthorizationCode');
      const id = randomToken();
      await a.upsert(id, payloadFor('AuthorizationCode'), 30);
      clock.advance(31_000);
      await assert.rejects(a.consume(id), (e: { error?: string }) => e.error === 'invalid_grant');
      await assert.rejects(a.consume(randomToken()), (e: { error?: string }) => e.error === 'invalid_grant');
    });

    test('a replayed code revokes its grant: every token of that grant and the grant itself', async () => {
      const grantId = randomToken();
      await adapter('Grant').upsert(grantId, payloadFor('Grant', { jti: grantId }), 3600);
      const code = randomToken();
      await adapter('AuthorizationCode').upsert(code, payloadFor('AuthorizationCode', { grantId }), 30);
      await adapter('AuthorizationCode').consume(code);
      const token = randomToken();
      await adapter('AccessToken').upsert(token, payloadFor('AccessToken', { grantId }), 60);
      await assert.rejects(adapter('AuthorizationCode').consume(code));
      assert.equal(await adapter('AccessToken').find(token), undefined);
      assert.equal(await adapter('Grant').find(grantId), undefined);
    });

    test('revokeByGrantId removes every model’s rows of that grant and nothing else', async () => {
      const [g1, g2] = [randomToken(), randomToken()];
      const ids = new Map<string, [string, string]>();
      for (const model of GRANTABLE) {
        const pair: [string, string] = [randomToken(), randomToken()];
        ids.set(model, pair);
        await adapter(model).upsert(pair[0], payloadFor(model, { grantId: g1 }), 600);
        await adapter(model).upsert(pair[1], payloadFor(model, { grantId: g2 }), 600);
      }
      const session = randomToken();
      await adapter('Session').upsert(session, payloadFor('Session', { uid: randomToken() }), 600);
      await adapter('Grant').upsert(g1, payloadFor('Grant', { jti: g1 }), 600);
      const interaction = randomToken();
      await adapter('Interaction').upsert(interaction, payloadFor('Interaction', { grantId: g1 }), 600);

      await adapter('AccessToken').revokeByGrantId(g1);

      for (const model of GRANTABLE) {
        const [of1, of2] = ids.get(model) ?? ['', ''];
        assert.equal(await adapter(model).find(of1), undefined, `${model} of the revoked grant`);
        assert.ok(await adapter(model).find(of2), `${model} of another grant`);
      }
      assert.ok(await adapter('Session').find(session));
      assert.ok(await adapter('Grant').find(g1), 'the Grant itself is destroyed by the provider, not here');
      assert.ok(await adapter('Interaction').find(interaction));
    });

    test('a dump shows no token, code, session id, user code, claim or email', async () => {
      const secrets: string[] = [];
      for (const model of MODELS) {
        const id = randomToken();
        const uid = randomToken();
        const grantId = randomToken();
        secrets.push(id, uid, grantId);
        await adapter(model).upsert(id, payloadFor(model, { jti: id, uid, grantId, userCode: 'ZXCVBNMQ' }), 600);
      }
      const { rows } = await t.superuser(`SELECT * FROM oidc_payloads`);
      const keys = await t.superuser(`SELECT * FROM oidc_data_keys`);
      const dump = Buffer.concat(
        [...rows, ...keys.rows].flatMap((r: Record<string, unknown>) =>
          Object.values(r).map((v) => (v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v), 'utf8'))),
        ),
      );
      for (const needle of [EMAIL, GIVEN_NAME, 'n-0S6_WzA2Mj', 'ZXCVBNMQ', 'openid email', 'login_hint', ...secrets]) {
        assert.equal(dump.includes(Buffer.from(needle, 'utf8')), false, 'clear text found in the table');
        assert.equal(dump.toString('latin1').includes(needle), false);
      }
      assert.ok(keys.rows.length >= 1);
    });

    test('a payload copied onto another row does not decrypt there', async () => {
      const a = adapter('AccessToken');
      const [victim, attacker] = [randomToken(), randomToken()];
      await a.upsert(victim, payloadFor('AccessToken', { accountId: randomUUID(), scope: 'openid identite_pivot' }), 600);
      await a.upsert(attacker, payloadFor('AccessToken'), 600);
      const idMac = (id: string): Buffer => hmac(ring.macKey, `oidc-id\0${id}`);
      assert.ok(await a.find(attacker));
      await t.superuser(
        `UPDATE oidc_payloads SET payload = (SELECT payload FROM oidc_payloads WHERE model = 'AccessToken' AND id_mac = $1) WHERE model = 'AccessToken' AND id_mac = $2`,
        [idMac(victim), idMac(attacker)],
      );
      assert.equal(await a.find(attacker), undefined, 'the victim’s payload does not authenticate under the attacker’s row');
      assert.ok(await a.find(victim));
    });

    test('after a KEK rotation old rows still read, and housekeeping re-wraps their data key', async () => {
      const a = adapter('Grant');
      const id = randomToken();
      const payload = payloadFor('Grant', { jti: id });
      await a.upsert(id, payload, 3600);
      const rotated = ring.withNewKek('kek-two');
      const fresh = new KeyRing(rotated.toJSON());
      // A new process on the rotated key file reads the row written under the old KEK.
      const store2 = createOidcStore({ db: t.db, ring: fresh, clock });
      assert.deepEqual(await new PgAdapter('Grant', store2).find(id), payload);
      await purgeExpiredOidc(t.db, fresh, clock);
      const { rows } = await t.superuser(`SELECT DISTINCT kek_id FROM oidc_data_keys`);
      assert.deepEqual(rows.map((r: { kek_id: string }) => r.kek_id), ['kek-two']);
      // Once every key is under the new KEK the old one can go: the row still reads.
      const withoutOld = new KeyRing(fresh.withoutKek('kek-one').toJSON());
      assert.deepEqual(await new PgAdapter('Grant', createOidcStore({ db: t.db, ring: withoutOld, clock })).find(id), payload);
    });

    test('twenty first writes at once under a new KEK make one data key', async () => {
      const burst = new KeyRing(ring.withNewKek('kek-burst').toJSON());
      const s = createOidcStore({ db: t.db, ring: burst, clock });
      const ids = Array.from({ length: 20 }, () => randomToken());
      await Promise.all(ids.map((id) => new PgAdapter('Interaction', s).upsert(id, payloadFor('Interaction'), 600)));
      const { rows } = await t.superuser(`SELECT count(*)::int AS n FROM oidc_data_keys WHERE kek_id = 'kek-burst'`);
      assert.equal(rows[0].n, 1);
      for (const id of ids) assert.ok(await new PgAdapter('Interaction', s).find(id));
    });

    test('endAccountFederation ends an account’s sessions, grants and their tokens, in its own citizen context too', async () => {
      const account = randomUUID();
      const other = randomUUID();
      const grantId = randomToken();
      await adapter('Grant').upsert(grantId, payloadFor('Grant', { jti: grantId, accountId: account }), 600);
      const token = randomToken();
      await adapter('ClientCredentials').upsert(token, { ...payloadFor('ClientCredentials'), accountId: undefined, grantId } as AdapterPayload, 600);
      const rt = randomToken();
      await adapter('RefreshToken').upsert(rt, payloadFor('RefreshToken', { accountId: account, grantId }), 600);
      const session = randomToken();
      await adapter('Session').upsert(session, payloadFor('Session', { accountId: account }), 600);
      const otherSession = randomToken();
      await adapter('Session').upsert(otherSession, payloadFor('Session', { accountId: other }), 600);
      // A citizen context of another account deletes nothing of it (row-level security).
      assert.equal(await citizen(t.db, other, (tx) => tx.query(`DELETE FROM oidc_payloads WHERE account_id = $1`, [account])).then((r) => r.rowCount), 0);
      const deleted = await citizen(t.db, account, (tx) => endAccountFederation(tx, account));
      assert.equal(deleted, 3);
      assert.equal(await adapter('Grant').find(grantId), undefined);
      assert.equal(await adapter('RefreshToken').find(rt), undefined);
      assert.equal(await adapter('Session').find(session), undefined);
      assert.ok(await adapter('Session').find(otherSession));
      assert.ok(await adapter('ClientCredentials').find(token), 'not a grantable model: not part of the grant');
    });

    test('the application roles: a citizen context cannot read the provider’s rows (only which are its own, to end them)', async () => {
      for (const column of ['payload', 'id_mac', 'grant_mac', '*']) {
        await assert.rejects(
          t.db.transaction((q) => q.query(`SELECT ${column} FROM oidc_payloads`), { trusted: `SET LOCAL ROLE sesame_citizen` }),
          /permission denied/,
          column,
        );
      }
      await assert.rejects(
        t.db.transaction((q) => q.query(`UPDATE oidc_payloads SET expires_at = NULL`), { trusted: `SET LOCAL ROLE sesame_citizen` }),
        /permission denied/,
      );
      assert.ok((await rowCount()) > 0);
    });
  });
}
