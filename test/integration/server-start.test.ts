import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { startServer } from '../../src/server.ts';
import { readKeyRing, KeyFileError } from '../../src/crypto/keyring.ts';
import { openDatabase, pgliteDir } from '../../src/db/open.ts';
import { system } from '../../src/db/contexts.ts';
import { findAccountByNir } from '../../src/accounts/accounts.ts';
import { DEMO } from '../../src/accounts/demo.ts';
import { ConfigError } from '../../src/config.ts';
import { systemClock } from '../../src/clock.ts';
import { DEFAULT_SIGNING_KEY_POLICY, rotateSigningKey } from '../../src/oidc/signing-keys.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { requirement } from '../support/requirements.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sesame-start-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const capture = () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  return { out, text: () => text };
};

test('a development start on an empty data directory: keys, database, demo citizen, server ready', async () => {
  const env = { SESAME_DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent' };
  const stdout = capture();
  const server = await startServer({ env, cwd: dir, stdout: stdout.out });
  try {
    const ready = await fetch(`${server.address}/readyz`);
    assert.deepEqual([ready.status, await ready.json()], [200, { status: 'ok', database: 'ok' }]);
    assert.match(stdout.text(), /Demo citizen \(development only\):\n {2}NIR {7}1 99 01 75 999 999 \d\d\n {2}password {2}demo-sesame-2026/);
    assert.match(stdout.text(), /written as \.eml files under mail/);
    assert.equal((await stat(path.join(dir, 'keys.json'))).mode & 0o777, 0o600);
  } finally {
    await server.close();
  }
  // A second start reuses everything and creates no second demo citizen.
  const again = await startServer({ env, cwd: dir, stdout: capture().out });
  await again.close();
  const ring = await readKeyRing(path.join(dir, 'keys.json'));
  const db = await openDatabase({ dataDir: pgliteDir(dir) });
  try {
    const found = await system(db, 'test', (tx) => findAccountByNir(tx, ring, DEMO.nir));
    assert.equal(found?.status, 'active');
    const { rows } = await system(db, 'test', (tx) => tx.query(`SELECT count(*)::int AS n FROM accounts`));
    assert.deepEqual(rows, [{ n: 1 }]);
  } finally {
    await db.close();
  }
});

test('production refuses to start without its key file, and never generates one', async () => {
  const env = {
    SESAME_ENV: 'production',
    SESAME_DATA_DIR: path.join(dir, 'prod'),
    SESAME_KEYS_FILE: path.join(dir, 'prod', 'absent-keys.json'),
    SESAME_PUBLIC_URL: 'https://sesame.example.gouv.fr',
    SESAME_METRICS_TOKEN: 'metrics-scraper-token-0123456789abcdef',
    SMTP_URL: 'smtp://127.0.0.1:2525',
    LOG_LEVEL: 'silent',
  };
  await assert.rejects(startServer({ env, cwd: dir, stdout: capture().out }), KeyFileError);
  await assert.rejects(stat(env.SESAME_KEYS_FILE), /ENOENT/);
  await assert.rejects(startServer({ env: { ...env, SMTP_URL: '' }, cwd: dir, stdout: capture().out }), ConfigError);
});

test('a start that cannot listen fails, and releases the embedded database', async () => {
  const blocker = await import('node:net').then((net) => net.createServer().listen(0, '127.0.0.1'));
  await new Promise((r) => blocker.once('listening', r));
  const port = String((blocker.address() as { port: number }).port);
  const env = { SESAME_DATA_DIR: dir, PORT: port, HOST: '127.0.0.1', LOG_LEVEL: 'silent' };
  await assert.rejects(startServer({ env, cwd: dir, stdout: capture().out }), /EADDRINUSE/);
  blocker.close();
  const db = await openDatabase({ dataDir: pgliteDir(dir) });
  await db.close();
});

test('a running server takes a signing-key rotation made by another process, without a restart', { skip: requirement('postgres').skip }, async () => {
  const pgdb = await createPostgresDatabase();
  const env = { SESAME_DATA_DIR: path.join(dir, 'rotation'), DATABASE_URL: pgdb.url, PORT: '0', LOG_LEVEL: 'silent', SESAME_OIDC_SIGNING_KEY_RELOAD_SECONDS: '1' };
  const server = await startServer({ env, cwd: dir, stdout: capture().out });
  const ring = await readKeyRing(path.join(dir, 'rotation', 'keys.json'));
  const db = await openDatabase({ databaseUrl: pgdb.url });
  try {
    const kids = async (): Promise<string[]> => ((await (await fetch(`${server.address}/oidc/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const before = await kids();
    // `sesame keys rotate-signing`, as an operator runs it from another machine.
    const r = await system(db, 'test', (tx) => rotateSigningKey(tx, ring, systemClock, 'ES256', DEFAULT_SIGNING_KEY_POLICY));
    assert.equal(r.outcome, 'rotated');
    const kid = r.outcome === 'rotated' ? r.key.kid : '';
    assert.equal(before.includes(kid), false);
    const deadline = Date.now() + 10_000;
    while (!(await kids()).includes(kid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok((await kids()).includes(kid), 'the new key is published by the running server');
  } finally {
    await server.close();
    await db.close();
    await pgdb.drop();
  }
});
