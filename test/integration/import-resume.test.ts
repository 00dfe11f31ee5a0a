import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { nirIndex } from '../../src/accounts/accounts.ts';
import { system } from '../../src/db/contexts.ts';
import { beneficiariesImport } from '../../src/import/beneficiaries.ts';
import { runImport, type BatchInfo, type ImportHooks, type ImportReport } from '../../src/import/runner.ts';
import { claimUnfinished, RunTakenOverError } from '../../src/import/runs.ts';
import { fileIdentity } from '../../src/import/file-identity.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { BENEFICIARY_HEADER, beneficiaryCells, beneficiaryRow, csvRow, nirFor, writeCsv } from '../../bench/import-data.ts';
import { importEnv } from './import-env.ts';

/** Rows 0…n-1 of the generator, with rows in `invalid` given an impossible birth date. */
const rows = (n: number, invalid: number[] = []): ((i: number) => string) => (i) =>
  invalid.includes(i) ? csvRow(beneficiaryCells(i).map((c, k) => (k === 3 ? '1980-02-31' : c))) : beneficiaryRow(i);

class Crash extends Error {}

for (const backend of backends()) {
  describe(`import interrupted and resumed on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let dir: string;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock();
    let n = 0;

    before(async () => {
      t = await backend.open();
      dir = await mkdtemp(path.join(tmpdir(), 'sesame-import-resume-'));
    });
    after(async () => {
      await t?.close();
      await rm(dir, { recursive: true, force: true });
    });
    afterEach(async () => {
      // Each test starts from an empty set of accounts (owner rights: the cascade clears the file too).
      await t.superuser(`DELETE FROM accounts`);
    });

    const file = async (count: number, row: (i: number) => string): Promise<string> => {
      const f = path.join(dir, `f${++n}.csv`);
      await writeCsv(f, BENEFICIARY_HEADER, count, row);
      return f;
    };
    const run = (f: string, hooks: ImportHooks = {}, worker = false): Promise<ImportReport> =>
      runImport(
        beneficiariesImport({ ring, clock }, { update: false, worker }),
        { db: t.db, ring, clock, operator: 'test' },
        { file: f, rejectsPath: `${f}.rejects`, batchSize: 10, restart: false, updateIdentity: false, delimiter: 'auto' },
        { stderr: new PassThrough(), tty: false },
        hooks,
      );
    const crashAt = (when: 'beforeCommit' | 'afterCommit', batch: number): ImportHooks => ({
      [when]: (info: BatchInfo) => {
        if (info.batch === batch) throw new Crash(`${when} ${batch}`);
      },
    });
    const count = async (sql: string): Promise<number> => Number((await t.superuser(sql)).rows[0]?.n);
    /** Every NIR of the file exactly once (no duplicate, no gap) except the rejected ones. */
    const assertExactly = async (total: number, rejected: number[]): Promise<void> => {
      const expected = Array.from({ length: total }, (_, i) => i).filter((i) => !rejected.includes(i));
      const found = await t.superuser(`SELECT nir_index FROM accounts`);
      const have = new Set(found.rows.map((r) => Buffer.from(r.nir_index as Uint8Array).toString('hex')));
      assert.equal(found.rows.length, expected.length, 'one account per valid row');
      for (const i of expected) assert.ok(have.has(nirIndex(ring, nirFor(i).nir).toString('hex')), `row ${i} is missing`);
      assert.equal(await count(`SELECT count(*) AS n FROM account_keys`), expected.length);
    };
    const batchEvents = async (runId: string): Promise<[number, number][]> =>
      (await t.superuser(`SELECT payload FROM audit_log WHERE type = 'import.batch' AND payload->>'runId' = $1 ORDER BY seq`, [runId])).rows.map((r) => {
        const p = r.payload as { firstLine: number; lastLine: number };
        return [p.firstLine, p.lastLine];
      });

    test('a crash after batch 2 committed: the re-run resumes after it, no row twice, none missing, each reject once (encrypting on a worker)', async () => {
      const f = await file(50, rows(50, [5, 35]));
      await assert.rejects(run(f, crashAt('afterCommit', 2), true), Crash);
      assert.equal(await count(`SELECT count(*) AS n FROM accounts`), 19);
      const runs = await t.superuser(`SELECT status, records_done::int AS done, last_line::int AS line FROM import_runs ORDER BY started_at DESC LIMIT 1`);
      assert.deepEqual(runs.rows[0], { status: 'running', done: 20, line: 21 });

      const report = await run(f, {}, true);
      assert.deepEqual(report.resumedAfter, { line: 21, records: 20 });
      assert.equal(report.recordsThisRun, 30);
      assert.deepEqual(report.counts, { created: 48, updated: 0, unchanged: 0, notApplied: 0, rejected: 2 });
      await assertExactly(50, [5, 35]);
      const rejects = (await readFile(`${f}.rejects`, 'utf8')).split('\r\n').filter(Boolean);
      assert.deepEqual(rejects.slice(1).map((l) => l.split(',').at(-1)), ['line 7: birth_date: must be a real date written YYYY-MM-DD', 'line 37: birth_date: must be a real date written YYYY-MM-DD']);
      const lines = await batchEvents(report.runId);
      assert.deepEqual(lines, [[2, 11], [12, 21], [22, 31], [32, 41], [42, 51]]);
    });

    test('a crash before batch 2 commits rolls the whole batch back (rows and rejects); the re-run does it again', async () => {
      const f = await file(30, rows(30, [15]));
      await assert.rejects(run(f, crashAt('beforeCommit', 2)), Crash);
      assert.equal(await count(`SELECT count(*) AS n FROM accounts`), 10);
      // The reject of the rolled-back batch was cut from the file again.
      await assert.rejects(readFile(`${f}.rejects`, 'utf8'), { code: 'ENOENT' });
      const report = await run(f);
      assert.deepEqual(report.resumedAfter, { line: 11, records: 10 });
      assert.equal(report.counts.created, 29);
      await assertExactly(30, [15]);
      const rejects = (await readFile(`${f}.rejects`, 'utf8')).split('\r\n').filter(Boolean);
      assert.equal(rejects.length, 2);
    });

    test('a row the database refuses is rejected alone: the rest of its batch commits, nothing of the failed attempts stays', async () => {
      const f = await file(30, rows(30));
      const poisoned = nirIndex(ring, nirFor(14).nir).toString('hex');
      await t.superuser(`CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.nir_index = decode('${poisoned}', 'hex') THEN RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$`);
      await t.superuser(`CREATE TRIGGER test_refuse BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION test_refuse()`);
      try {
        const eventsBefore = await count(`SELECT count(*) AS n FROM file_events`);
        const report = await run(f);
        assert.deepEqual(report.counts, { created: 29, updated: 0, unchanged: 0, notApplied: 0, rejected: 1 });
        await assertExactly(30, [14]);
        // The bank-details events of the rolled-back attempts are gone with them.
        const withIban = Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 4 !== 3 && i !== 14).length;
        assert.equal((await count(`SELECT count(*) AS n FROM file_events`)) - eventsBefore, withIban);
        const rejects = (await readFile(`${f}.rejects`, 'utf8')).split('\r\n').filter(Boolean);
        assert.deepEqual(rejects.slice(1).map((l) => l.split(',').at(-1)), ['line 16: database: the row was refused (SQLSTATE 23514)']);
        // The committed parts cover every line once, in order.
        const ranges = await batchEvents(report.runId);
        assert.deepEqual(ranges, [[2, 11], [12, 14], [15, 15], [16, 16], [17, 21], [22, 31]]);
        assert.equal(ranges[0]?.[0], 2);
        assert.equal(ranges.at(-1)?.[1], 31);
        for (let k = 1; k < ranges.length; k++) assert.equal(ranges[k]?.[0], (ranges[k - 1]?.[1] ?? 0) + 1);
      } finally {
        await t.superuser(`DROP TRIGGER test_refuse ON accounts`);
        await t.superuser(`DROP FUNCTION test_refuse()`);
      }
    });

    test('a second process that takes the run over fences the first: its next batch is rolled back', async () => {
      const f = await file(30, rows(30));
      const identity = await fileIdentity(f);
      const takeOver: ImportHooks = {
        async afterCommit(info) {
          if (info.batch === 1) await system(t.db, 'test', (tx) => claimUnfinished(tx, 'beneficiaries', identity, clock.now()));
        },
      };
      await assert.rejects(run(f, takeOver), RunTakenOverError);
      assert.equal(await count(`SELECT count(*) AS n FROM accounts`), 10);
      const report = await run(f);
      assert.equal(report.counts.created, 30);
      await assertExactly(30, []);
    });
  });

  describe(`sesame import killed (SIGKILL) and run again on ${backend.name}`, { skip: backend.skip }, () => {
    test('the re-run resumes from the last checkpoint: every row exactly once', async () => {
      const e = await importEnv(backend);
      try {
        const total = 3000;
        const f = path.join(e.dir, 'big.csv');
        await writeCsv(f, BENEFICIARY_HEADER, total, (i) => beneficiaryRow(i));
        const child = spawn(process.execPath, ['src/main.ts', 'import', 'beneficiaries', f, '--batch-size', '100'], { env: { ...process.env, ...e.env, DATABASE_URL: e.env.DATABASE_URL ?? '' } });
        // The first progress line is printed once the first batch has committed.
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        await new Promise<void>((resolve, reject) => {
          child.stderr.on('data', () => /rows/.test(stderr) && resolve());
          child.on('exit', () => reject(new Error(`the import ended before it could be killed: ${stderr}`)));
        });
        child.kill('SIGKILL');
        await once(child, 'exit').catch(() => undefined);

        const r = await e.run(['import', 'beneficiaries', f, '--batch-size', '500']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /resumed an interrupted run after line [\d,]+/);
        assert.match(r.stdout, new RegExp(`${total.toLocaleString('en-US')} rows: ${total.toLocaleString('en-US')} created`));
        const [{ n, d }] = (await e.owner<{ n: string; d: string }>(`SELECT count(*)::text AS n, count(DISTINCT nir_index)::text AS d FROM accounts`)) as [{ n: string; d: string }];
        assert.deepEqual([Number(n), Number(d)], [total, total]);
      } finally {
        await e.close();
      }
    });
  });
}
