import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { system } from '../../src/db/contexts.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { setPasswordHash } from '../../src/accounts/credentials.ts';
import { hashPassword } from '../../src/crypto/passwords.ts';
import { formatNir } from '../../src/accounts/nir.ts';
import { queueMail } from '../../src/mail/outbox.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { requirement } from '../support/requirements.ts';
import { uniqueNir } from '../support/fixtures.ts';

/**
 * The 2024 breach took NIRs, names, birth dates, addresses, phones and emails in bulk.
 * A copy of our database (files of the embedded one, a pg_dump of the server) must show
 * none of them: every value is looked for in the raw bytes.
 */
const ring = KeyRing.generate('kek-test');
const clock = new ManualClock();

const people = [0, 1, 2].map((i) => ({
  identity: {
    nir: uniqueNir(i % 2 ? 1 : 2),
    givenNames: ['Xylophène', 'Quentaline', 'Brunehilde'][i] ?? '',
    familyName: ['Zarkowiaczek', 'Oubliettière', 'Vandermoortel'][i] ?? '',
    usageName: ['Quillebeufienne', 'Pétaouchnokova', 'Trifouilloise'][i] ?? '',
    birthDate: `1985-0${i + 1}-2${i}`,
    birthPlace: ['Tréguier-sur-Mer', 'Saint-Pancrace', 'Hazebrouck'][i] ?? '',
    gender: 'female' as const,
  },
  contact: {
    email: `leak.canary.${i}@exemple-fuite.fr`,
    phone: `+33 7 98 76 54 3${i}`,
    postalAddress: `${17 + i} impasse des Hiboux Roux, 2915${i} Plouézec`,
  },
}));

function needles(): string[] {
  return people.flatMap((p) => [
    p.identity.nir,
    formatNir(p.identity.nir),
    p.identity.nir.slice(0, 13),
    p.identity.givenNames,
    p.identity.familyName,
    p.identity.usageName,
    p.identity.birthDate,
    p.identity.birthPlace,
    p.contact.email,
    p.contact.email.split('@')[0] ?? '',
    p.contact.phone,
    p.contact.phone.replace(/\D/g, ''),
    p.contact.postalAddress,
    'Hiboux Roux',
  ]);
}

async function fill(db: OpenDatabase): Promise<void> {
  for (const p of people) {
    const hash = await hashPassword('a long enough passphrase');
    await system(db, 'test', async (tx) => {
      const { id } = await createAccount(tx, { ring, clock }, { ...p, status: 'active', via: 'cli' });
      await setPasswordHash(tx, clock, id, hash);
      await queueMail(tx, { ring, clock }, { accountId: id, template: 'account-created', locale: 'fr', params: { givenName: p.identity.givenNames } });
    });
  }
}

/** Raw bytes, lowercase, and hex (how pg_dump writes bytea, where clear text could hide). */
function findLeaks(haystack: Buffer): string[] {
  const forms = (n: string): string[] => [n, n.toLowerCase(), Buffer.from(n, 'utf8').toString('hex')];
  return needles().filter((n) => forms(n).some((f) => haystack.includes(Buffer.from(f, 'utf8'))));
}

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('no PII in clear at rest', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sesame-leak-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('every byte of the PGlite data directory', async () => {
    const dataDir = path.join(dir, 'pglite');
    const db = await openDatabase({ dataDir, migrate: true });
    await fill(db);
    await db.close();
    const files = await allFiles(dataDir);
    assert.ok(files.length > 100, 'the data directory was written');
    let sawCanary = false;
    for (const file of files) {
      const bytes = await readFile(file);
      // The scan must be able to see table contents: audit event types are stored in clear.
      if (bytes.includes(Buffer.from('account.created'))) sawCanary = true;
      assert.deepEqual(findLeaks(bytes), [], `${path.relative(dataDir, file)} holds PII in clear`);
    }
    assert.ok(sawCanary, 'the scan saw table contents');
  });

  test('a pg_dump of the PostgreSQL database', { skip: requirement('postgres').skip }, async () => {
    const created = await createPostgresDatabase();
    const db = await openDatabase({ databaseUrl: created.url, migrate: true });
    try {
      await fill(db);
      const { stdout } = await promisify(execFile)('pg_dump', ['--data-only', created.url], { maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' });
      assert.ok(stdout.includes(Buffer.from('account.created')), 'the dump holds table contents');
      assert.deepEqual(findLeaks(stdout), []);
    } finally {
      await db.close();
      await created.drop();
    }
  });
});
