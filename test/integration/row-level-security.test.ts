import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { newId } from '../../src/crypto/random.ts';
import { readAccount } from '../../src/accounts/accounts.ts';
import { audit } from '../../src/audit/log.ts';
import { startSession } from '../../src/auth/sessions.ts';
import { DEFAULT_AUTH_POLICY } from '../../src/auth/policy.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { newAccount } from '../support/fixtures.ts';

/** Tables citizens never touch directly; every other table must be isolated per account. */
const NOT_CITIZEN_TABLES = new Set(['schema_migrations']);
/** The locked role cannot even resolve names in the schema, so refusals read either way. */
const REFUSED = /permission denied|does not exist/;

for (const backend of backends()) {
  describe(`row-level security on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock();
    let alice: string;
    let bob: string;

    before(async () => {
      t = await backend.open();
      alice = await newAccount(t.db, { ring, clock });
      bob = await newAccount(t.db, { ring, clock });
      await system(t.db, 'test', async (tx) => {
        // A service both consented to (028): connected services are per account.
        await tx.query(
          `INSERT INTO oidc_clients (client_id, name, redirect_uris, scopes, grant_types, acr_min, acr_default, auth_method, secret_mac, created_at, created_by)
           VALUES ('rls-test-client-0001', 'Service', ARRAY['https://service.example/cb'], ARRAY['openid'], ARRAY['authorization_code'], 'eidas1', 'eidas1', 'client_secret_basic', '\\x00', now(), 'test')`,
        );
        for (const id of [alice, bob]) {
          await tx.query(
            `INSERT INTO oidc_consents (account_id, client_id, grant_id, scopes, consented_at, updated_at) VALUES ($1, 'rls-test-client-0001', $2, ARRAY['openid'], now(), now())`,
            [id, `grant-${id.slice(0, 8)}-0000000000`],
          );
          await tx.query(`INSERT INTO credentials (id, account_id, kind, secret, created_at, updated_at) VALUES ($1, $2, 'password', 'x', now(), now())`, [newId(), id]);
          await tx.query(
            `INSERT INTO outbox (id, account_id, template, payload, next_attempt_at, created_at) VALUES ($1, $2, 'account-created', NULL, now(), now())`,
            [newId(), id],
          );
          await startSession(tx, { ring, clock, policy: DEFAULT_AUTH_POLICY }, { accountId: id, level: 'eidas1', amr: ['mail', 'pwd'], authTime: clock.now(), client: { ip: '192.0.2.1', userAgent: null } });
          // One row in each strong-authentication table (007–010), so that isolation is checked there too.
          const app = newId();
          const key = newId();
          const phone = newId();
          await tx.query(
            `INSERT INTO authenticators (id, account_id, kind, name, created_at, sensitive_from) VALUES ($1, $4, 'totp', '\\x00', now(), now()), ($2, $4, 'passkey', '\\x00', now(), now()), ($3, $4, 'device', '\\x00', now(), now())`,
            [app, key, phone, id],
          );
          await tx.query(`INSERT INTO totp_secrets (authenticator_id, account_id, secret, enrolment_id) VALUES ($1, $2, '\\x00', $3)`, [app, id, newId()]);
          await tx.query(`INSERT INTO recovery_codes (id, account_id, authenticator_id, code_mac, created_at) VALUES ($1, $2, $3, $4, now())`, [newId(), id, app, Buffer.from(id)]);
          await tx.query(`INSERT INTO passkey_credentials (authenticator_id, account_id, credential_id, public_key, counter) VALUES ($1, $2, $3, '\\x00', 0)`, [key, id, Buffer.from(id)]);
          await tx.query(`INSERT INTO approval_devices (authenticator_id, account_id, key_id, public_key, created_at) VALUES ($1, $2, $3, '\\x00', now())`, [phone, id, Buffer.from(id)]);
          // The file (011): one event and one bank-details projection row.
          await tx.query(`INSERT INTO file_events (id, account_id, type, payload, actor_kind, actor_id, occurred_at) VALUES ($1, $2, 'contact.phone-changed', '\\x00', 'system', 'test', now())`, [newId(), id]);
          await tx.query(`INSERT INTO file_bank_details (account_id, iban, holder, version, updated_at) VALUES ($1, '\\x00', '\\x00', 1, now())`, [id]);
          // The file's keyed parts (012): one procedure and one payment.
          await tx.query(
            `INSERT INTO file_procedures (id, account_id, reference, kind, status, submitted_at, payload, version, updated_at) VALUES ($1, $2, $3, 'income-declaration', 'submitted', now(), '\\x00', 1, now())`,
            [newId(), id, `D-TEST-${id.slice(0, 8).toUpperCase()}`],
          );
          await tx.query(`INSERT INTO file_payments (id, account_id, paid_on, status, payload, version, updated_at) VALUES ($1, $2, current_date, 'paid', '\\x00', 1, now())`, [newId(), id]);
          // Contact and bank details (015): the cancellation code of a held change of bank details.
          const change = newId();
          await tx.query(`INSERT INTO file_events (id, account_id, type, payload, actor_kind, actor_id, occurred_at) VALUES ($1, $2, 'bank-details.changed', '\\x00', 'system', 'test', now())`, [change, id]);
          await tx.query(`INSERT INTO bank_change_cancel_codes (id, account_id, event_id, code_mac, created_at, expires_at) VALUES ($1, $2, $3, '\\x00', now(), now())`, [newId(), id, change]);
          // A provider session of theirs (032: a citizen ends their own with their sessions).
          const dataKey = newId();
          await tx.query(`INSERT INTO oidc_data_keys (id, kek_id, wrapped_key, created_at) VALUES ($1, 'k', '\\x00', now())`, [dataKey]);
          await tx.query(`INSERT INTO oidc_payloads (model, id_mac, key_id, payload, account_id) VALUES ('Session', $1, $2, '\\x00', $3)`, [Buffer.from(id), dataKey, id]);
        }
      });
    });
    after(() => t?.close());

    test('a query outside any context is refused', async () => {
      await assert.rejects(t.db.query('SELECT * FROM accounts'), REFUSED);
      await assert.rejects(t.db.query('SELECT * FROM public.accounts'), /permission denied/);
      await assert.rejects(t.db.transaction((q) => q.query('SELECT * FROM audit_log')), REFUSED);
    });

    test('every table but the migration ledger has row-level security', async () => {
      const { rows } = await t.superuser(
        `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND NOT relrowsecurity`,
      );
      assert.deepEqual(rows.map((r) => r.relname).filter((n) => !NOT_CITIZEN_TABLES.has(n)), []);
    });

    test('on every citizen table a citizen sees only their own rows, even when asking by id', async () => {
      const { rows: tables } = await t.superuser(
        `SELECT c.relname AS table, a.attname AS column FROM pg_class c
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname IN ('account_id', 'id')
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relrowsecurity
            AND has_any_column_privilege('sesame_citizen', c.oid, 'SELECT')
            AND (a.attname = 'account_id' OR c.relname = 'accounts')`,
      );
      const names = tables.map((r) => String(r.table)).sort();
      for (const expected of ['account_keys', 'accounts', 'audit_log', 'authenticators', 'credentials', 'outbox', 'passkey_credentials', 'sessions', 'file_events', 'file_bank_details', 'file_procedures', 'file_payments', 'oidc_consents']) assert.ok(names.includes(expected), expected);
      for (const { table, column } of tables as { table: string; column: string }[]) {
        const own = await citizen(t.db, alice, (tx) => tx.query(`SELECT ${column}::text AS owner FROM ${table}`));
        assert.ok(own.rows.length > 0, `${table}: alice sees her rows`);
        assert.ok(own.rows.every((r) => r.owner === alice), `${table}: alice sees only her rows`);
        const other = await citizen(t.db, alice, (tx) => tx.query(`SELECT 1 FROM ${table} WHERE ${column} = $1`, [bob]));
        assert.equal(other.rows.length, 0, `${table}: bob's rows are invisible to alice`);
      }
    });

    test('login machinery (flows, codes, throttles) is out of a citizen context entirely', async () => {
      for (const table of ['auth_flows', 'one_time_codes', 'login_throttle', 'client_throttle', 'device_approvals']) {
        await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`SELECT 1 FROM ${table}`)), /permission denied/, table);
      }
    });

    test('of the service registry a citizen reads names only (connected services), never a secret MAC or a setting', async () => {
      const names = await citizen(t.db, alice, (tx) => tx.query(`SELECT client_id, name, disabled_at FROM oidc_clients`));
      assert.equal(names.rows.length, 1);
      for (const column of ['secret_mac', 'redirect_uris', 'jwks_uri']) {
        await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`SELECT ${column} FROM oidc_clients`)), /permission denied/, column);
      }
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`UPDATE oidc_clients SET disabled_at = now()`)), /permission denied/);
      // Of the provider's rows, only which are theirs (to end them with their sessions), never a payload or a token's hash.
      for (const column of ['payload', 'id_mac', 'grant_mac']) {
        await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`SELECT ${column} FROM oidc_payloads`)), /permission denied/, column);
      }
    });

    test('a citizen may end their own session but never revive it, nor read token hashes', async () => {
      const { rows } = await system(t.db, 'test', (tx) => tx.query<{ id: string }>(`SELECT id FROM sessions WHERE account_id = $1`, [alice]));
      const id = rows[0]?.id;
      assert.ok(id);
      const ended = await citizen(t.db, alice, (tx) => tx.query(`UPDATE sessions SET ended_at = now(), end_reason = 'logout' WHERE id = $1 RETURNING id`, [id]));
      assert.equal(ended.rowCount, 1);
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`UPDATE sessions SET ended_at = NULL WHERE id = $1`, [id])), /row-level security/);
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`SELECT token_hash FROM sessions`)), /permission denied/);
    });

    test("a citizen cannot change another account's rows", async () => {
      const updated = await citizen(t.db, alice, (tx) =>
        tx.query(`UPDATE accounts SET phone = NULL, updated_at = now() WHERE id = $1`, [bob]),
      );
      assert.equal(updated.rowCount, 0);
      const creds = await citizen(t.db, alice, (tx) => tx.query(`UPDATE credentials SET secret = 'y' WHERE account_id = $1`, [bob]));
      assert.equal(creds.rowCount, 0);
      await assert.rejects(
        citizen(t.db, alice, (tx) =>
          tx.query(`INSERT INTO credentials (id, account_id, kind, secret, created_at, updated_at) VALUES ($1, $2, 'password', 'z', now(), now())`, [newId(), bob]),
        ),
        /row-level security/,
      );
      await assert.rejects(
        citizen(t.db, alice, (tx) => audit(tx, clock, { type: 'account.data_key_shredded', accountId: bob, payload: {} })),
        /row-level security/,
      );
      const bobsSecret = await system(t.db, 'test', (tx) => tx.query(`SELECT secret FROM credentials WHERE account_id = $1`, [bob]));
      assert.equal(bobsSecret.rows[0]?.secret, 'x');
    });

    test('a citizen cannot change their identity or status, nor shred keys', async () => {
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`UPDATE accounts SET status = 'active' WHERE id = $1`, [alice])), /permission denied/);
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`UPDATE accounts SET nir_index = '\\x00' WHERE id = $1`, [alice])), /permission denied/);
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`DELETE FROM account_keys WHERE account_id = $1`, [alice])), /permission denied/);
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`SELECT * FROM schema_migrations`)), /permission denied/);
    });

    test('a citizen reads their own decrypted account and nothing of another', async () => {
      const own = await citizen(t.db, alice, (tx) => readAccount(tx, ring, alice));
      assert.equal(own?.identity.givenNames, 'Camille');
      assert.equal(await citizen(t.db, alice, (tx) => readAccount(tx, ring, bob)), null);
    });

    test('the role ends with the transaction: the next query is locked down again', async () => {
      await system(t.db, 'test', (tx) => tx.query('SELECT count(*) FROM accounts'));
      await assert.rejects(t.db.query('SELECT count(*) FROM accounts'), REFUSED);
      await assert.rejects(t.db.transaction((q) => q.query('SELECT count(*) FROM accounts')), REFUSED);
    });

    test('a failed context leaves no role behind', async () => {
      await assert.rejects(system(t.db, 'test', async (tx) => {
        await tx.query('SELECT 1');
        throw new Error('boom');
      }), /boom/);
      await assert.rejects(t.db.query('SELECT count(*) FROM credentials'), REFUSED);
    });
  });
}
