/**
 * Streaming CSV parser (RFC 4180): quoted fields may hold the delimiter, doubled quotes and
 * line breaks; records end with CRLF or LF. It keeps one record in memory at a time, so a
 * file of millions of rows is read in constant memory. Each record carries the physical line
 * it starts on, for error reports. Problems never quote the data (it is personal data).
 */

export interface CsvRecord {
  /** 1-based physical line where the record starts (the header is line 1). */
  line: number;
  fields: string[];
  /** A malformed record (stray quote, unclosed quote): the rule it breaks. */
  problem: string | null;
  /** The record's text as it was in the file, for a malformed record only (its fields are a guess). */
  raw: string | null;
}

export type Delimiter = ',' | ';';

/** The file cannot be read on: the import stops (no record after this point can be trusted). */
export class CsvFileError extends Error {
  override name = 'CsvFileError';
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

export interface CsvOptions {
  /** 'auto': ';' when the first line has semicolons and no commas (what spreadsheets in French locales write), else ','. */
  delimiter?: Delimiter | 'auto';
  /** A record longer than this (characters) stops the parse: an unclosed quote would otherwise swallow the file. */
  maxRecordChars?: number;
  /** Told the delimiter once it is known. */
  onDelimiter?: (delimiter: Delimiter) => void;
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;
const DEFAULT_MAX_RECORD = 1 << 20;

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Text of the source, decoded as strict UTF-8 (a BOM is dropped). */
async function* decode(source: AsyncIterable<string | Uint8Array>, lineOf: () => number): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of source) {
    if (typeof chunk === 'string') {
      yield chunk;
      continue;
    }
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      // The valid part first, so that the line reported is the one with the bad bytes.
      const lenient = new TextDecoder('utf-8').decode(chunk);
      yield lenient.slice(0, Math.max(0, lenient.indexOf('\ufffd')));
      throw new CsvFileError(lineOf(), 'the file is not valid UTF-8 (save it as UTF-8 CSV)');
    }
    if (text.length > 0) yield text;
  }
  let rest: string;
  try {
    rest = decoder.decode();
  } catch {
    throw new CsvFileError(lineOf(), 'the file ends inside a UTF-8 character (save it as UTF-8 CSV)');
  }
  if (rest.length > 0) yield rest;
}

export async function* parseCsv(source: AsyncIterable<string | Uint8Array>, options: CsvOptions = {}): AsyncGenerator<CsvRecord> {
  const maxChars = options.maxRecordChars ?? DEFAULT_MAX_RECORD;
  let line = 1;
  let recordLine = 1;
  let fields: string[] = [];
  let field = '';
  let recordChars = 0;
  // The current record's text: what earlier chunks held of it, and where it starts in this one.
  let rawCarry = '';
  let rawStart = 0;
  let problem: string | null = null;
  let atFieldStart = true;
  let quoted = false; // the current field started with a quote
  let inQuotes = false;
  let afterQuote = false; // a quote just closed (or starts an escaped "")
  let pendingCR = false; // a CR outside quotes whose LF may be in the next chunk
  // A record that is just "" is one empty field, not a blank line.
  let quotedEmpty = false;
  let delim = options.delimiter === ';' ? 59 : 44;
  let decided = false;
  let head = '';
  const decide = (first: string | null): void => {
    if (first !== null) delim = first.includes(';') && !first.includes(',') ? 59 : 44;
    decided = true;
    options.onDelimiter?.(delim === 59 ? ';' : ',');
  };
  if (options.delimiter !== undefined && options.delimiter !== 'auto') decide(null);

  const grow = (n: number): void => {
    recordChars += n;
    if (recordChars > maxChars) throw new CsvFileError(recordLine, `a record is longer than ${maxChars} characters (an unclosed quote?)`);
  };
  const endField = (): void => {
    fields.push(field);
    field = '';
    atFieldStart = true;
    quoted = false;
  };
  const endRecord = (text: string, end: number): CsvRecord | null => {
    endField();
    const raw = problem === null ? null : (rawCarry + text.slice(rawStart, end)).replace(/\r$/, '');
    rawCarry = '';
    rawStart = end + 1;
    const record = fields.length === 1 && fields[0] === '' && problem === null && !quotedEmpty ? null : { line: recordLine, fields, problem, raw };
    fields = [];
    problem = null;
    recordChars = 0;
    quotedEmpty = false;
    line++;
    recordLine = line;
    return record;
  };

  const texts = decode(source, () => line);
  for await (let text of texts) {
    if (!decided) {
      // The header decides the delimiter; column names never contain either.
      head += text;
      const end = head.indexOf('\n');
      if (end === -1 && head.length < maxChars) continue;
      decide(end === -1 ? head : head.slice(0, end));
      text = head;
      head = '';
    }
    yield* parseText(text);
  }
  if (!decided) {
    decide(head);
    yield* parseText(head);
  }
  if (inQuotes) problem ??= 'csv: a quoted field is not closed before the end of the file';
  if (pendingCR) field += '\r';
  if (field !== '' || fields.length > 0 || quoted || afterQuote) {
    const record = endRecord('', 0);
    if (record) yield record;
  }

  function* parseText(text: string): Generator<CsvRecord> {
    rawStart = 0;
    yield* scan(text);
    rawCarry += text.slice(rawStart);
  }

  function* scan(text: string): Generator<CsvRecord> {
    const len = text.length;
    let i = 0;
    while (i < len) {
      if (inQuotes) {
        const j = text.indexOf('"', i);
        const end = j === -1 ? len : j;
        grow(end - i);
        field += text.slice(i, end);
        line += countNewlines(text, i, end);
        if (j === -1) return;
        i = j + 1;
        inQuotes = false;
        afterQuote = true;
        continue;
      }
      let c = text.charCodeAt(i);
      if (pendingCR) {
        pendingCR = false;
        if (c !== LF) field += '\r'; // a lone CR is data
      }
      if (afterQuote) {
        afterQuote = false;
        if (c === QUOTE) {
          field += '"';
          inQuotes = true;
          i++;
          continue;
        }
        if (c !== delim && c !== CR && c !== LF) problem ??= 'csv: characters after a closing quote';
      }
      if (c === delim) {
        endField();
        i++;
        continue;
      }
      if (c === LF) {
        const record = endRecord(text, i);
        if (record) yield record;
        i++;
        continue;
      }
      if (c === CR) {
        pendingCR = true;
        i++;
        continue;
      }
      if (c === QUOTE) {
        if (atFieldStart) {
          quoted = true;
          inQuotes = true;
          atFieldStart = false;
          i++;
          // Remembered so that a record made of "" alone is not taken for a blank line.
          if (fields.length === 0) quotedEmpty = true;
          continue;
        }
        problem ??= 'csv: a quote inside a field that does not start with one (quote the field and double the quote)';
      }
      // Plain run up to the next character that means something.
      const start = i;
      i++;
      while (i < len) {
        c = text.charCodeAt(i);
        if (c === delim || c === QUOTE || c === CR || c === LF) break;
        i++;
      }
      grow(i - start);
      field += text.slice(start, i);
      atFieldStart = false;
    }
  }
}
