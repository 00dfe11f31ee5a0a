import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { newId } from '../../src/crypto/random.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { createLogger } from '../../src/logger.ts';
import { queueMail } from '../../src/mail/outbox.ts';
import type { OutgoingMail } from '../../src/mail/transport.ts';
import { createMailWorker } from '../../src/mail/worker.ts';
import { backends, type TestDatabase } from '../support/databases.ts';

/**
 * Someone who can write to the outbox (SQL injection elsewhere, a stolen backup restored,
 * a citizen session) must not be able to redirect a mail to another address or person, nor
 * make a mail look delivered so that it is never sent.
 */
const ring = KeyRing.generate('kek-test');
const site = { serviceName: 'Sésame', siteAddress: 'sesame.example.gouv.fr', timeZone: 'Europe/Paris' };
const logger = createLogger('silent');

for (const b of backends()) {
  describe(`outbox tampering on ${b.name}`, { skip: b.skip }, () => {
    let t: TestDatabase;
    const clock = new ManualClock();
    const sent: OutgoingMail[] = [];
    const transport = { send: async (m: OutgoingMail) => void sent.push(m) };
    let alice: string;
    let bob: string;
    let n = 0;
    const make = (email: string) =>
      system(t.db, 'test', (tx) =>
        createAccount(tx, { ring, clock }, {
          identity: { nir: `1850578006084${++n}0`, givenNames: email.split('@')[0] ?? '', familyName: 'Martin', birthDate: '1985-05-17', birthPlace: null, gender: null },
          contact: { email, phone: null, postalAddress: null },
          status: 'active',
          via: 'cli',
        }),
      ).then((r) => r.id);
    const queue = (accountId: string, to?: string) =>
      system(t.db, 'test', (tx) => queueMail(tx, { ring, clock }, { accountId, template: 'account-created', locale: 'fr', params: { givenName: 'X' }, to }));
    const worker = () => createMailWorker({ db: t.db, ring, clock, transport, from: 'Sésame <ne-pas-repondre@sesame.example.gouv.fr>', site, logger });
    const status = async (id: string) => (await t.superuser(`SELECT status, last_error FROM outbox WHERE id = $1`, [id])).rows[0];

    before(async () => {
      t = await b.open();
      alice = await make('alice@example.fr');
      bob = await make('bob@example.fr');
    });
    beforeEach(async () => {
      sent.length = 0;
      await t.superuser(`DELETE FROM outbox`);
    });
    after(() => t?.close());

    test('a payload copied onto another message of the same account does not decrypt: redirected mail is not sent', async () => {
      const toAlice = await queue(alice);
      const elsewhere = await queue(alice, 'attacker@evil.example');
      // Swapping payloads would send the mail queued for alice to the other address.
      await t.superuser(`UPDATE outbox SET payload = (SELECT payload FROM outbox WHERE id = $1) WHERE id = $2`, [elsewhere, toAlice]);
      assert.deepEqual(await worker().runOnce(), { sent: 1, retried: 0, failed: 1 });
      assert.deepEqual(sent.map((m) => m.messageId), [`<${elsewhere}@sesame.example.gouv.fr>`], 'only the mail really queued for that address');
      assert.deepEqual(await status(toAlice), { status: 'failed', last_error: 'undecryptable' });
      const audit = await t.superuser(`SELECT payload->>'reason' AS reason FROM audit_log WHERE type = 'mail.failed' AND payload->>'messageId' = $1`, [toAlice]);
      assert.equal(audit.rows[0]?.reason, 'undecryptable');
    });

    test("a message moved onto another account does not decrypt: bob never gets alice's mail", async () => {
      const id = await queue(alice);
      await t.superuser(`UPDATE outbox SET account_id = $1 WHERE id = $2`, [bob, id]);
      assert.deepEqual(await worker().runOnce(), { sent: 0, retried: 0, failed: 1 });
      assert.deepEqual(sent, []);
    });

    test('a citizen can queue a mail for themself only, and can never set its delivery state', async () => {
      const id = await queue(alice);
      await assert.rejects(citizen(t.db, alice, (tx) => tx.query(`UPDATE outbox SET status = 'sent' WHERE id = $1`, [id])), /permission denied/);
      await assert.rejects(
        citizen(t.db, alice, (tx) =>
          tx.query(`INSERT INTO outbox (id, account_id, template, status, next_attempt_at, created_at) VALUES ($1, $2, 'account-created', 'sent', now(), now())`, [newId(), alice]),
        ),
        /permission denied/,
      );
      await assert.rejects(
        citizen(t.db, alice, (tx) => queueMail(tx, { ring, clock }, { accountId: bob, template: 'account-created', locale: 'fr', params: { givenName: 'X' }, to: 'alice@example.fr' })),
        /shredded|not found|row-level security/,
      );
      assert.deepEqual(await worker().runOnce(), { sent: 1, retried: 0, failed: 0 });
    });

    test('a delivered message cannot keep its payload (the database enforces the wipe)', async () => {
      const id = await queue(alice);
      await assert.rejects(
        system(t.db, 'test', (tx) => tx.query(`UPDATE outbox SET status = 'sent', sent_at = now() WHERE id = $1`, [id])),
        /outbox_sent_is_wiped/,
      );
    });
  });
}
