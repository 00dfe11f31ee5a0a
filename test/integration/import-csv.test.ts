import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseCsv, CsvFileError, type CsvRecord, type Delimiter } from '../../src/import/csv.ts';
import { csvLine, neutralise, unneutralise } from '../../src/import/rejects.ts';

/** Parses text cut into chunks of `size` characters (a chunk boundary anywhere must not matter). */
async function parse(text: string | Buffer, size = 3, delimiter?: Delimiter | 'auto'): Promise<CsvRecord[]> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const out: CsvRecord[] = [];
  for await (const r of parseCsv(Readable.from(chunks), { delimiter })) out.push(r);
  return out;
}

const simple = (records: CsvRecord[]): [number, string[]][] => records.map((r) => [r.line, r.fields]);

describe('CSV parser (RFC 4180, streaming)', () => {
  test('fields, quotes, doubled quotes, delimiters and line breaks inside quotes, with the line each record starts on', async () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\r\nlines",z\n3,,\n';
    for (const size of [1, 2, 3, 7, 1000]) {
      assert.deepEqual(
        simple(await parse(text, size)),
        [
          [1, ['a', 'b', 'c']],
          [2, ['1', 'x, y', 'say "hi"']],
          [3, ['2', 'two\r\nlines', 'z']],
          [5, ['3', '', '']],
        ],
        `chunk size ${size}`,
      );
    }
  });

  test('a UTF-8 BOM is dropped; multi-byte characters split across chunks survive', async () => {
    const records = await parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('nir,name\n1,Léa Chloé\n')]), 1);
    assert.deepEqual(simple(records), [[1, ['nir', 'name']], [2, ['1', 'Léa Chloé']]]);
  });

  test('the delimiter is guessed from the header: semicolons when it has no comma', async () => {
    assert.deepEqual(simple(await parse('a;b\n1,5;2\n')), [[1, ['a', 'b']], [2, ['1,5', '2']]]);
    assert.deepEqual(simple(await parse('a,b\n1;5,2\n')), [[1, ['a', 'b']], [2, ['1;5', '2']]]);
    assert.deepEqual(simple(await parse('a,b\n1;5,2\n', 3, ';')), [[1, ['a,b']], [2, ['1', '5,2']]]);
  });

  test('blank lines are skipped, a last line without a line break is read, "" alone is one empty field', async () => {
    assert.deepEqual(simple(await parse('a\n\n1\r\n\r\n""\n2')), [[1, ['a']], [3, ['1']], [5, ['']], [6, ['2']]]);
  });

  test('malformed records carry the rule they break and their text as it was; the next record is read normally', async () => {
    const records = await parse('a,b\n1,x"y\n"2"z,w\n3,ok\n4,"open\n');
    assert.deepEqual(
      records.map((r) => [r.line, r.problem, r.raw]),
      [
        [1, null, null],
        [2, 'csv: a quote inside a field that does not start with one (quote the field and double the quote)', '1,x"y'],
        [3, 'csv: characters after a closing quote', '"2"z,w'],
        [4, null, null],
        [5, 'csv: a quoted field is not closed before the end of the file', '4,"open\n'],
      ],
    );
  });

  test('invalid UTF-8 stops the parse with its line, not the bytes', async () => {
    await assert.rejects(parse(Buffer.concat([Buffer.from('a\n1\n'), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]), 1000), (err: Error) => {
      assert.ok(err instanceof CsvFileError);
      assert.match(err.message, /^line 3: the file is not valid UTF-8/);
      return true;
    });
  });

  test('an unclosed quote cannot swallow the file into memory: a record past the limit stops the parse', async () => {
    const source = Readable.from((function* () {
      yield 'a\n"';
      for (let i = 0; i < 100; i++) yield 'x'.repeat(1000);
    })());
    await assert.rejects(async () => {
      for await (const r of parseCsv(source, { maxRecordChars: 50_000 })) void r;
    }, /line 2: a record is longer than 50000 characters/);
  });

  test('constant memory: 400,000 rows (~60 MB) streamed through the parser keep the heap flat', async () => {
    const row = '185077510001234,Camille,Martin,1985-07-14,Paris,F,camille@example.org,0612345678,"1 rue de la Paix, 75002 Paris",FR7630006000011234567890189,\n';
    const rows = 400_000;
    const source = Readable.from((function* () {
      yield 'nir,given_names,family_name,birth_date,birth_place,gender,email,phone,postal_address,iban,iban_holder\n';
      for (let i = 0; i < rows; i += 500) yield row.repeat(500);
    })());
    // Live memory, not garbage waiting for a collection: measured right after a full GC.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let count = 0;
    for await (const r of parseCsv(source)) {
      count++;
      if (r.fields.length !== 11) assert.fail(`record at line ${r.line} has ${r.fields.length} fields`);
      if (count % 50_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    assert.equal(count, rows + 1);
    // The input is ~60 MB; holding it (or the records) would show here.
    assert.ok(peak < 8 * 2 ** 20, `heap grew by ${(peak / 2 ** 20).toFixed(1)} MiB`);
  });
});

describe('rejects file cells', () => {
  test('formula-like cells get an apostrophe (CSV injection) that the importer takes off again', () => {
    for (const cell of ['=1+1', '+33 6 12', '-12.00', '@SUM(A1)', '\tx', '\rx']) {
      assert.equal(neutralise(cell), `'${cell}`);
      assert.equal(unneutralise(neutralise(cell)), cell);
    }
    for (const cell of ['Camille', "O'Neil", "'plain", '']) {
      assert.equal(neutralise(cell), cell);
      assert.equal(unneutralise(cell), cell);
    }
  });

  test('lines quote what needs quoting and parse back to the same cells', async () => {
    const cells = ['a', 'b,c', 'say "hi"', 'two\nlines', ' padded ', ''];
    for (const d of [',', ';'] as const) {
      const [record] = await parse(csvLine(cells, d), 5, d);
      assert.deepEqual(record?.fields, cells);
    }
  });
});
