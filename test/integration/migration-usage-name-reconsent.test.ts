import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { createClient } from '../../src/oidc/clients.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { newAccount } from '../support/fixtures.ts';

/**
 * Migration 031: consents given before preferred_username was released (030), to services
 * holding the profile or preferred_username scope, were asked on a page that did not list the
 * usage name. They are withdrawn (audited), with their citizens' grants and tokens, so the
 * next sign-in asks again; nobody else's consents, grants or sessions are touched.
 */
const SCRIPT = await readFile(new URL('../../src/db/migrations/031_usage_name_reconsent.sql', import.meta.url), 'utf8');

for (const backend of backends()) {
  describe(`migration 031 (re-consent for the usage name) on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock();

    before(async () => {
      t = await backend.open();
    });
    after(() => t?.close());

    test('withdraws the profile and preferred_username consents with their citizens’ grants and tokens; keeps the rest', async () => {
      const { db } = t;
      const [withProfile, withPreferred, emailOnly] = [await newAccount(db, { ring, clock }), await newAccount(db, { ring, clock }), await newAccount(db, { ring, clock })];
      const client = async (scopes: string): Promise<string> =>
        (await system(db, 'test', (tx) => createClient(tx, ring, clock, { name: `Service ${scopes}`, redirectUris: ['https://service.example/cb'], scopes, authMethod: 'client_secret_basic' }, 'operator:test'))).client.clientId;
      const profileClient = await client('openid profile');
      const preferredClient = await client('openid preferred_username');
      const emailClient = await client('openid email');
      const consents: [string, string, string[]][] = [
        [withProfile, profileClient, ['openid', 'profile']],
        [withProfile, emailClient, ['openid', 'email']],
        [withPreferred, preferredClient, ['openid', 'preferred_username']],
        [emailOnly, emailClient, ['openid', 'email']],
      ];
      const keyId = randomUUID();
      await db.runAsOwner(async (q) => {
        await q.query(`INSERT INTO oidc_data_keys (id, kek_id, wrapped_key, created_at) VALUES ($1, 'kek-test', '\\x00', now())`, [keyId]);
        for (const [account, clientId, scopes] of consents) {
          await q.query(`INSERT INTO oidc_consents (account_id, client_id, grant_id, scopes, consented_at, updated_at) VALUES ($1, $2, $3, $4, now(), now())`, [account, clientId, `grant-${randomBytes(12).toString('hex')}`, scopes]);
        }
        // Each citizen's grant, access and refresh token rows, and a browser session (not grant-bound).
        for (const account of [withProfile, withPreferred, emailOnly]) {
          for (const model of ['Grant', 'AccessToken', 'RefreshToken', 'Session']) {
            await q.query(`INSERT INTO oidc_payloads (model, id_mac, key_id, payload, account_id, expires_at) VALUES ($1, $2, $3, '\\x00', $4, now() + interval '1 hour')`, [model, randomBytes(32), keyId, account]);
          }
        }
        await q.query('BEGIN');
        await q.exec(SCRIPT);
        await q.query('COMMIT');
      });

      const left = await db.runAsOwner(async (q) => ({
        consents: (await q.query<{ account_id: string; client_id: string }>(`SELECT account_id, client_id FROM oidc_consents ORDER BY account_id, client_id`)).rows,
        payloads: (await q.query<{ account_id: string; model: string }>(`SELECT account_id, model FROM oidc_payloads`)).rows,
        revoked: (await q.query<{ account_id: string; actor: string; payload: { clientId: string; via: string } }>(`SELECT account_id, actor, payload FROM audit_log WHERE type = 'oidc.consent-revoked'`)).rows,
      }));
      const key = (a: string, c: string): string => `${a} ${c}`;
      assert.deepEqual(new Set(left.consents.map((r) => key(r.account_id, r.client_id))), new Set([key(withProfile, emailClient), key(emailOnly, emailClient)]));
      const models = (account: string): string[] => left.payloads.filter((p) => p.account_id === account).map((p) => p.model).sort();
      assert.deepEqual(models(withProfile), ['Session'], 'grants and tokens gone, the browser session kept');
      assert.deepEqual(models(withPreferred), ['Session']);
      assert.deepEqual(models(emailOnly), ['AccessToken', 'Grant', 'RefreshToken', 'Session'], 'untouched');
      assert.deepEqual(
        new Set(left.revoked.map((r) => `${key(r.account_id, r.payload.clientId)} ${r.payload.via} ${r.actor}`)),
        new Set([`${key(withProfile, profileClient)} consent-page-changed system:migration`, `${key(withPreferred, preferredClient)} consent-page-changed system:migration`]),
      );
      assert.equal((await system(db, 'test', (tx) => verifyAuditChain(tx))).ok, true);
    });
  });
}
