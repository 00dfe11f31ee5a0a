import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readKeyRing } from '../../src/crypto/keyring.ts';
import { openDatabase, pgliteDir } from '../../src/db/open.ts';
import { lockDataDir } from '../../src/db/data-dir-lock.ts';
import { system } from '../../src/db/contexts.ts';
import { readAccount } from '../../src/accounts/accounts.ts';
import { passwordHash } from '../../src/accounts/credentials.ts';
import { verifyPassword } from '../../src/crypto/passwords.ts';
import { formatNir } from '../../src/accounts/nir.ts';
import { backends, createPostgresDatabase } from '../support/databases.ts';
import { uniqueNir } from '../support/fixtures.ts';
import { sesame } from '../support/cli.ts';

for (const backend of backends()) {
  describe(`sesame CLI on ${backend.name}`, { skip: backend.skip }, () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let drop = async (): Promise<void> => undefined;
    const nir = uniqueNir(2);
    const person = (n: string) => ['--nir', formatNir(n), '--email', 'lea.moreau@example.fr', '--given-name', 'Léa Marie', '--family-name', 'Moreau', '--birthdate', '1985-' + n.slice(3, 5) + '-21'];
    const open = async () => openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: pgliteDir(env.SESAME_DATA_DIR ?? '') });

    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'sesame-cli-'));
      env = { SESAME_DATA_DIR: dir, LOG_LEVEL: 'silent' };
      if (backend.name === 'postgres') {
        const created = await createPostgresDatabase();
        env.DATABASE_URL = created.url;
        drop = created.drop;
      }
    });
    after(async () => {
      await drop();
      await rm(dir, { recursive: true, force: true });
    });

    test('migrate applies every migration once, then has nothing to do', async () => {
      const first = await sesame(['migrate'], env);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /applied: 001_roles, 002_accounts, 003_audit/);
      const again = await sesame(['migrate'], env);
      assert.deepEqual([again.code, again.stdout.trim()], [0, 'database is up to date']);
    });

    test('users create with a password makes an active account and prints its id', async () => {
      const r = await sesame(['users', 'create', ...person(nir), '--usage-name', 'Moreau-Lefèvre', '--gender', 'female', '--password-stdin', '--json'], env, 'correct horse battery staple\n');
      assert.equal(r.code, 0, r.stderr);
      const { id, status } = JSON.parse(r.stdout) as { id: string; status: string };
      assert.equal(status, 'active');
      const db = await open();
      try {
        const account = await system(db, 'test', async (tx) => ({
          account: await readAccount(tx, await readKeyRing(path.join(dir, 'keys.json')), id),
          hash: await passwordHash(tx, id),
        }));
        assert.equal(account.account?.identity.nir, nir);
        assert.equal(account.account?.identity.givenNames, 'Léa Marie');
        assert.equal(account.account?.identity.usageName, 'Moreau-Lefèvre');
        assert.equal((await verifyPassword(account.hash ?? '', 'correct horse battery staple')).ok, true);
      } finally {
        await db.close();
      }
    });

    test('without a password the account is pending activation, told by mail; the plain output is the id alone', async () => {
      const r = await sesame(['users', 'create', ...person(uniqueNir(1)), '--locale', 'en'], env);
      assert.equal(r.code, 0, r.stderr);
      const id = r.stdout.trim();
      assert.match(id, /^[0-9a-f-]{36}$/);
      const db = await open();
      try {
        const { rows } = await system(db, 'test', (tx) => tx.query(`SELECT a.status, o.template FROM accounts a JOIN outbox o ON o.account_id = a.id WHERE a.id = $1`, [id]));
        assert.deepEqual(rows, [{ status: 'pending_activation', template: 'account-created' }]);
      } finally {
        await db.close();
      }
    });

    test('a duplicate NIR is a clear error with exit code 1 and no personal data in the message', async () => {
      const r = await sesame(['users', 'create', ...person(nir)], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /--nir: an account with this NIR already exists/);
      assert.ok(!r.stderr.includes(nir.slice(0, 13)) && !r.stderr.includes(formatNir(nir)));
    });

    test('bad fields are named, not echoed, with exit code 2', async () => {
      const bad = [...person(uniqueNir())];
      bad[1] = '1 85 07 75 123 456 00';
      bad[3] = 'not-an-email';
      const r = await sesame(['users', 'create', ...bad, '--usage-name', 'R2-D2'], env);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--nir: The key/);
      assert.match(r.stderr, /--email: is not a valid email address/);
      assert.match(r.stderr, /--usage-name: must be 1 to 100 letters/);
      assert.ok(!r.stderr.includes('123 456') && !r.stderr.includes('not-an-email') && !r.stderr.includes('R2-D2'));

      const mismatch = person(uniqueNir());
      mismatch[9] = '1990-01-01';
      const m = await sesame(['users', 'create', ...mismatch], env);
      assert.equal(m.code, 2);
      assert.match(m.stderr, /--birthdate: does not match the year and month of birth in the NIR/);

      const short = await sesame(['users', 'create', ...person(uniqueNir()), '--password-stdin'], env, 'short\n');
      assert.equal(short.code, 2);
      assert.match(short.stderr, /password \(stdin\): The password must be at least 12 characters long/);

      const missing = await sesame(['users', 'create', '--nir', formatNir(uniqueNir())], env);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--email is required/);

      const unquoted = await sesame(['users', 'create', '--nir', '2', '85', '07', '75'], env);
      assert.equal(unquoted.code, 2);
      assert.match(unquoted.stderr, /unexpected extra argument: put values that contain spaces in quotes/);
      assert.ok(!/'85'|'07'/.test(unquoted.stderr));

      const flag = await sesame(['users', 'create', '--colour', 'blue'], env);
      assert.equal(flag.code, 2);
      assert.match(flag.stderr, /Unknown option '--colour'/);
    });

    test('audit verify finds the chain intact after those commands', async () => {
      const r = await sesame(['audit', 'verify'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /audit chain intact: \d+ events/);
    });

    test('keys rotate moves every data key to a new KEK; status and retire follow', async () => {
      const before = await readKeyRing(path.join(dir, 'keys.json'));
      const r = await sesame(['keys', 'rotate', '--wait-seconds', '0', '--batch-size', '1'], env);
      assert.equal(r.code, 0, r.stderr);
      const after = await readKeyRing(path.join(dir, 'keys.json'));
      assert.notEqual(after.currentKekId, before.currentKekId);
      assert.match(r.stdout, /done: 2 data keys re-wrapped/);
      const status = await sesame(['keys', 'status'], env);
      assert.match(status.stdout, new RegExp(`\\* ${after.currentKekId}: 2 data keys`));
      assert.match(status.stdout, new RegExp(`  ${before.currentKekId}: 0 data keys`));
      const refused = await sesame(['keys', 'retire', '--kek', after.currentKekId], env);
      assert.equal(refused.code, 1);
      const retired = await sesame(['keys', 'retire', '--kek', before.currentKekId], env);
      assert.equal(retired.code, 0, retired.stderr);
      assert.deepEqual((await readKeyRing(path.join(dir, 'keys.json'))).kekIds, [after.currentKekId]);
    });

    // PGlite only: a server's database is its own process's.
    if (backend.name === 'pglite') test('the embedded database held by another process (the server): the command says so, naming it, and changes nothing', async () => {
      const release = await lockDataDir(pgliteDir(dir));
      try {
        const r = await sesame(['migrate'], env);
        assert.equal(r.code, 1);
        assert.match(r.stderr, new RegExp(`sesame migrate: the embedded database in .* is in use by process ${process.pid}: stop the server first, or use PostgreSQL`));
      } finally {
        await release();
      }
      assert.equal((await sesame(['migrate'], env)).code, 0);
    });
  });
}

describe('sesame CLI usage', () => {
  test('--help lists every command on one line each; no command is a usage error', async () => {
    const help = await sesame(['--help'], {});
    assert.equal(help.code, 0);
    for (const c of ['start', 'migrate', 'users create', 'keys rotate', 'audit verify']) assert.match(help.stdout, new RegExp(`^  ${c} +\\S`, 'm'));
    assert.equal((await sesame([], {})).code, 2);
  });

  test('an unknown command says so on stderr with exit code 2', async () => {
    const r = await sesame(['frobnicate'], {});
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "frobnicate"/);
  });

  test('a bad configuration names the variable and exits 1', async () => {
    const r = await sesame(['migrate'], { SESAME_ENV: 'production' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SESAME_KEYS_FILE: required in production/);
  });
});
