import { open, stat, unlink, type FileHandle } from 'node:fs/promises';
import type { Delimiter } from './csv.ts';

/**
 * The rejects file: each rejected row as it was read, plus a `reason` column, in the input's
 * delimiter. It holds personal data, so it is created owner-only. A spreadsheet would run a
 * cell that starts with = + - @ (or a tab or CR) as a formula (CSV injection): such cells are
 * written with a leading apostrophe, which the importer takes off again, so a corrected
 * rejects file can be imported as it is.
 *
 * Rows are written before their batch commits and the checkpoint records the file's length
 * in the same transaction: a resumed run cuts the file back to that length, so a batch that
 * was rolled back leaves no line and one that committed is never written twice.
 */

const FORMULA = /^[=+\-@\t\r]/;
export const REASON_COLUMN = 'reason';

export function neutralise(cell: string): string {
  return FORMULA.test(cell) ? `'${cell}` : cell;
}

/** Undoes neutralise() on input cells: an apostrophe followed by a formula character. */
export function unneutralise(cell: string): string {
  return cell.length > 1 && cell.charCodeAt(0) === 0x27 && FORMULA.test(cell.slice(1)) ? cell.slice(1) : cell;
}

export function csvLine(cells: readonly string[], delimiter: Delimiter): string {
  return `${cells.map((c) => (c.includes(delimiter) || /["\r\n]/.test(c) || c !== c.trim() ? `"${c.replaceAll('"', '""')}"` : c)).join(delimiter)}\r\n`;
}

export interface Reject {
  line: number;
  fields: readonly string[];
  reason: string;
}

export class RejectsFile {
  readonly path: string;
  #handle: FileHandle | null = null;
  #bytes: number;
  readonly #header: readonly string[];
  readonly #delimiter: Delimiter;
  /** How many rows this process wrote (a resumed run's earlier rows are not counted). */
  written = 0;

  private constructor(path: string, bytes: number, header: readonly string[], delimiter: Delimiter) {
    this.path = path;
    this.#bytes = bytes;
    this.#header = header;
    this.#delimiter = delimiter;
  }

  /**
   * A new run starts the file afresh (removed; created at the first reject). A resumed run
   * keeps `keepBytes` and cuts anything after it. Says when the kept part is missing.
   */
  static async open(path: string, options: { keepBytes: number | null; header: readonly string[]; delimiter: Delimiter }): Promise<{ file: RejectsFile; missing: boolean }> {
    const header = [...options.header.filter((h) => h !== REASON_COLUMN), REASON_COLUMN];
    if (options.keepBytes === null || options.keepBytes === 0) {
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      return { file: new RejectsFile(path, 0, header, options.delimiter), missing: false };
    }
    const size = await stat(path).then(
      (s) => s.size,
      () => -1,
    );
    const file = new RejectsFile(path, 0, header, options.delimiter);
    if (size < options.keepBytes) {
      // The earlier rows are gone (moved or deleted by someone): go on with a new file.
      await unlink(path).catch(() => undefined);
      return { file, missing: true };
    }
    file.#handle = await open(path, 'r+', 0o600);
    await file.#handle.truncate(options.keepBytes);
    file.#bytes = options.keepBytes;
    return { file, missing: false };
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Appends rows (sorted by line by the caller); returns the file's new length. */
  async append(rows: readonly Reject[]): Promise<number> {
    if (rows.length === 0) return this.#bytes;
    if (!this.#handle) {
      this.#handle = await open(this.path, 'w+', 0o600);
      this.#bytes = 0;
    }
    let text = this.#bytes === 0 ? csvLine(this.#header, this.#delimiter) : '';
    const width = this.#header.length - 1;
    for (const r of rows) {
      // Padded so that the reason always lands in the reason column.
      const cells = r.fields.length < width ? [...r.fields, ...Array<string>(width - r.fields.length).fill('')] : r.fields;
      text += csvLine([...cells.map(neutralise), `line ${r.line}: ${r.reason}`], this.#delimiter);
    }
    const data = Buffer.from(text, 'utf8');
    await this.#handle.write(data, 0, data.length, this.#bytes);
    this.#bytes += data.length;
    this.written += rows.length;
    return this.#bytes;
  }

  /** Back to a length the checkpoint knows (the batch that wrote past it was rolled back). */
  async truncate(bytes: number, written: number): Promise<void> {
    if (!this.#handle || bytes === this.#bytes) return;
    await this.#handle.truncate(bytes);
    this.#bytes = bytes;
    this.written = written;
  }

  async close(): Promise<void> {
    if (!this.#handle) return;
    await this.#handle.sync().catch(() => undefined);
    await this.#handle.close();
    this.#handle = null;
    // Every row it held was rolled back: no file rather than a header alone.
    if (this.#bytes === 0) await unlink(this.path).catch(() => undefined);
  }
}
