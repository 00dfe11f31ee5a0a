import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { createLogger } from '../../src/logger.ts';
import { queueMail } from '../../src/mail/outbox.ts';
import { fileTransport, transportFor } from '../../src/mail/transport.ts';
import { createMailWorker } from '../../src/mail/worker.ts';
import { backends, type TestDatabase } from '../support/databases.ts';

/** Development without SMTP_URL: every message is one .eml file under <dataDir>/mail. */
const ring = KeyRing.generate('kek-test');
const site = { serviceName: 'Sésame', siteAddress: 'localhost:8080', timeZone: 'Europe/Paris' };
const logger = createLogger('silent');

for (const b of backends()) {
  describe(`mail to .eml files on ${b.name}`, { skip: b.skip }, () => {
    let t: TestDatabase;
    let dataDir: string;
    const clock = new ManualClock();

    before(async () => {
      t = await b.open();
      dataDir = await mkdtemp(path.join(tmpdir(), 'sesame-mail-'));
    });
    after(async () => {
      await t?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    const queueTwo = async (): Promise<string[]> => {
      const { id } = await system(t.db, 'test', (tx) =>
        createAccount(tx, { ring, clock }, {
          identity: { nir: `2850578006${String(Math.random()).slice(2, 7)}`, givenNames: 'Zoé', familyName: 'Martin', birthDate: '1985-05-17', birthPlace: null, gender: null },
          contact: { email: 'zoe.martin@example.fr', phone: null, postalAddress: null },
          status: 'pending_activation',
          via: 'cli',
        }),
      );
      const q = (locale: 'fr' | 'en') =>
        system(t.db, 'test', (tx) => queueMail(tx, { ring, clock }, { accountId: id, template: 'account-created', locale, params: { givenName: 'Zoé' } }));
      return [await q('fr'), await q('en')];
    };

    test('one .eml per message, owner-only, with the designed Message-ID', async () => {
      const transport = transportFor({ env: 'development', smtpUrl: undefined, dataDir });
      const ids = await queueTwo();
      const worker = createMailWorker({ db: t.db, ring, clock, transport, from: 'Sésame <ne-pas-repondre@localhost>', site, logger });
      assert.deepEqual(await worker.runOnce(), { sent: 2, retried: 0, failed: 0 });
      const dir = path.join(dataDir, 'mail');
      assert.deepEqual((await readdir(dir)).sort(), ids.map((id) => `${id}.eml`).sort());
      for (const id of ids) {
        const file = path.join(dir, `${id}.eml`);
        assert.equal((await stat(file)).mode & 0o777, 0o600);
        const eml = await readFile(file, 'utf8');
        assert.match(eml, new RegExp(`^Message-ID: <${id}@localhost>\\r?$`, 'm'));
        assert.match(eml, /^To: zoe\.martin@example\.fr\r?$/m);
        assert.match(eml, /^Content-Type: multipart\/alternative/m);
        assert.match(eml, /^Auto-Submitted: auto-generated\r?$/m);
        assert.match(eml, /^Content-Type: text\/html/m);
        assert.match(eml, /^Date: Thu, 15 Jan 2026 09:00:00 \+0000\r?$/m);
      }
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
    });

    test('a redelivery (worker died after writing, before recording it) rewrites the same file', async () => {
      const dir = path.join(dataDir, 'redelivery');
      const files = fileTransport(dir);
      let writes = 0;
      // Written, then the worker "dies" before marking the row sent: the next attempt writes again.
      const transport = {
        async send(msg: Parameters<typeof files.send>[0]) {
          await files.send(msg);
          if (++writes <= 2) throw Object.assign(new Error('lost before commit'), { code: 'ECONNECTION' });
        },
      };
      const ids = await queueTwo();
      const worker = createMailWorker({ db: t.db, ring, clock, transport, from: 'Sésame <ne-pas-repondre@localhost>', site, logger, retry: { baseMs: 1000, maxMs: 1000 } });
      assert.deepEqual(await worker.runOnce(), { sent: 0, retried: 2, failed: 0 });
      clock.advance(1000);
      assert.deepEqual(await worker.runOnce(), { sent: 2, retried: 0, failed: 0 });
      assert.equal(writes, 4);
      assert.deepEqual((await readdir(dir)).sort(), ids.map((id) => `${id}.eml`).sort(), 'no duplicate, no temp file left');
      assert.deepEqual(await worker.runOnce(), { sent: 0, retried: 0, failed: 0 });
    });

    test('production never writes mail to files', () => {
      assert.throws(() => transportFor({ env: 'production', smtpUrl: undefined, dataDir }), /SMTP_URL/);
    });
  });
}
