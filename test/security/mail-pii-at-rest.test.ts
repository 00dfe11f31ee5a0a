import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { createLogger } from '../../src/logger.ts';
import { queueMail } from '../../src/mail/outbox.ts';
import { createMailWorker } from '../../src/mail/worker.ts';
import { backends, type TestDatabase } from '../support/databases.ts';

/**
 * A copy of the outbox (dump, backup, a partner's read access) must not be a mailing list
 * of beneficiaries: no recipient, no name in clear, and not what the relay answered either
 * (SMTP replies quote the address).
 */
const ring = KeyRing.generate('kek-test');
const site = { serviceName: 'Sésame', siteAddress: 'sesame.example.gouv.fr', timeZone: 'Europe/Paris' };
const EMAIL = 'quentaline.canari@exemple-fuite.fr';
const NAME = 'Quentaline';
const TO = 'ancienne.adresse.canari@exemple-fuite.fr';
const needles = [EMAIL, EMAIL.split('@')[0] ?? '', NAME, TO, TO.split('@')[0] ?? ''];

const leaks = (haystack: string): string[] =>
  needles.filter((n) => haystack.includes(n) || haystack.toLowerCase().includes(n.toLowerCase()) || haystack.includes(Buffer.from(n).toString('hex')));

for (const b of backends()) {
  describe(`mail PII at rest on ${b.name}`, { skip: b.skip }, () => {
    let t: TestDatabase;
    const clock = new ManualClock();
    let accountId: string;
    const ids: string[] = [];
    const outboxAsText = async () => (await t.superuser(`SELECT o::text AS row, encode(o.payload, 'hex') AS hex FROM outbox o`)).rows.map((r) => `${r.row} ${r.hex}`).join('\n');

    before(async () => {
      t = await b.open();
      await system(t.db, 'test', async (tx) => {
        ({ id: accountId } = await createAccount(tx, { ring, clock }, {
          identity: { nir: '285057800608412', givenNames: NAME, familyName: 'Oubliettière', birthDate: '1985-05-17', birthPlace: null, gender: 'female' },
          contact: { email: EMAIL, phone: null, postalAddress: null },
          status: 'active',
          via: 'cli',
        }));
        ids.push(await queueMail(tx, { ring, clock }, { accountId, template: 'account-created', locale: 'fr', params: { givenName: NAME } }));
        ids.push(await queueMail(tx, { ring, clock }, { accountId, template: 'account-created', locale: 'en', params: { givenName: NAME }, to: TO }));
      });
    });
    after(() => t?.close());

    test('a queued message: recipient and parameters are ciphertext, audit names ids only', async () => {
      const text = await outboxAsText();
      assert.ok(text.includes(ids[0] ?? '?'), 'the scan sees the rows');
      assert.deepEqual(leaks(text), []);
      const audit = await t.superuser(`SELECT payload::text AS p FROM audit_log WHERE type LIKE 'mail.%'`);
      assert.equal(audit.rows.length, 2);
      assert.deepEqual(leaks(audit.rows.map((r) => String(r.p)).join('\n')), []);
    });

    test('what a refusing relay said (it quoted the address) is kept nowhere: not in the row, the audit or the logs', async () => {
      const logs: string[] = [];
      const logger = createLogger('trace', { write: (line: string) => void logs.push(line) });
      // Shaped like nodemailer's error for a refused recipient.
      const transport = {
        async send(msg: { to: string }) {
          throw Object.assign(new Error(`Can't send mail - all recipients were rejected: 550 5.1.1 <${msg.to}>: Recipient address rejected`), {
            code: 'EENVELOPE',
            responseCode: 550,
            response: `550 5.1.1 <${msg.to}>: Recipient address rejected`,
            rejected: [msg.to],
          });
        },
      };
      const worker = createMailWorker({ db: t.db, ring, clock, transport, from: 'Sésame <ne-pas-repondre@sesame.example.gouv.fr>', site, logger, retry: { maxAttempts: 2, baseMs: 1000, maxMs: 1000 } });
      assert.deepEqual(await worker.runOnce(), { sent: 0, retried: 2, failed: 0 });
      clock.advance(1000);
      assert.deepEqual(await worker.runOnce(), { sent: 0, retried: 0, failed: 2 });

      const rows = await t.superuser(`SELECT status, last_error FROM outbox ORDER BY id`);
      assert.deepEqual(rows.rows.map((r) => [r.status, r.last_error]), [['failed', 'smtp-550'], ['failed', 'smtp-550']]);
      assert.deepEqual(leaks(await outboxAsText()), []);
      const audit = await t.superuser(`SELECT payload::text AS p FROM audit_log WHERE type LIKE 'mail.%'`);
      assert.deepEqual(leaks(audit.rows.map((r) => String(r.p)).join('\n')), []);
      assert.ok(logs.length >= 4, 'the worker logged');
      assert.deepEqual(leaks(logs.join('\n')), []);
    });

    test('the database refuses a free-text error, whatever the code does', async () => {
      await assert.rejects(
        system(t.db, 'test', (tx) => tx.query(`UPDATE outbox SET last_error = $1 WHERE id = $2`, [`550 <${EMAIL}> rejected`, ids[0]])),
        /check constraint/,
      );
    });
  });
}
