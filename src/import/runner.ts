import { createReadStream } from 'node:fs';
import type { Clock } from '../clock.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import type { Database } from '../db/database.ts';
import { system } from '../db/contexts.ts';
import { audit } from '../audit/log.ts';
import { parseCsv, type CsvRecord, type Delimiter } from './csv.ts';
import { fileIdentity, type FileIdentity } from './file-identity.ts';
import type { KindSpec, ValidRow } from './kind.ts';
import { Progress } from './progress.ts';
import { REASON_COLUMN, RejectsFile, unneutralise, type Reject } from './rejects.ts';
import { abandonUnfinished, checkpoint, claimUnfinished, noCounts, OUTCOMES, startRun, type Checkpoint, type Counts } from './runs.ts';

/**
 * Runs one import: reads the file as a stream, validates each row, and commits batches in
 * order, each in one transaction with its checkpoint and its audit event. While a batch's
 * transaction is in flight the next batch is read, validated and (when most rows are new)
 * encrypted, so the database and the process work at the same time.
 *
 * A batch that the database refuses for its data (a constraint, a value) is split in halves
 * and retried until the refused row stands alone and is rejected; any other failure stops the
 * import, and the checkpoint says where a re-run resumes.
 */

export interface ImportOptions {
  file: string;
  rejectsPath: string;
  batchSize: number;
  /** Ignore the checkpoint of an interrupted run of this file and start again from the top. */
  restart: boolean;
  /** beneficiaries --update: recorded in the run, a resumed run must use the same. */
  updateIdentity: boolean;
  delimiter: Delimiter | 'auto';
  /** Aborted (Ctrl-C): the import stops after the batch in flight, resumable. */
  signal?: AbortSignal;
}

export interface ImportContext {
  db: Database;
  ring: KeyRing;
  clock: Clock;
  /** Who runs it (audit events). */
  operator: string;
}

export interface ImportOutput {
  stderr: NodeJS.WritableStream;
  tty: boolean;
  columns?: number;
  /** Monotonic milliseconds, for the progress and the rate. */
  now?: () => number;
  /** Rejected rows listed on stderr before "see the rejects file". */
  maxListed?: number;
  progressIntervalMs?: number;
}

export interface BatchInfo {
  /** 1, 2, … in this process (a sub-batch of a split counts as one). */
  batch: number;
  firstLine: number;
  lastLine: number;
  recordsDone: number;
}

/** Test seams: a hook that throws stops the import like a crash at that point. */
export interface ImportHooks {
  beforeCommit?(info: BatchInfo): void | Promise<void>;
  afterCommit?(info: BatchInfo): void | Promise<void>;
}

export interface ImportReport {
  runId: string;
  resumedAfter: { line: number; records: number } | null;
  /** Unfinished runs of this file closed by --restart. */
  abandoned: number;
  counts: Counts;
  records: number;
  /** Line of the last row handled (committed or rejected). */
  lastLine: number;
  recordsThisRun: number;
  seconds: number;
  hashSeconds: number;
  rate: number;
  rejects: { path: string; rows: number } | null;
  /** A resumed run whose earlier rejects file was gone. */
  rejectsMissing: boolean;
  interrupted: boolean;
}

/** The file cannot be imported as it is (header, encoding): nothing was written. */
export class ImportFileError extends Error {
  override name = 'ImportFileError';
}

/** The command line does not fit the interrupted run it would resume. */
export class ResumeMismatchError extends Error {
  override name = 'ResumeMismatchError';
}

interface Item<V> {
  line: number;
  /** The row as read, minus a `reason` column (a corrected rejects file imported again). */
  fields: readonly string[];
  valid: ValidRow<V> | null;
  reason: string | null;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
const sqlState = (err: unknown): string | null => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SQLSTATE.test(code) ? code : null;
};
/** Refused for what a row holds (data exception, integrity constraint): split the batch to find it. */
const isDataError = (code: string | null): boolean => code !== null && (code.startsWith('22') || code.startsWith('23'));
const isRetryable = (code: string | null): boolean => code === '40001' || code === '40P01';
const RETRIES = 3;

function addCounts(a: Counts, b: Partial<Counts>): Counts {
  const c = { ...a };
  for (const k of OUTCOMES) c[k] += b[k] ?? 0;
  return c;
}

/** Runs the import (see above); the spec is closed when it ends, however it ends. */
export async function runImport<V>(spec: KindSpec<V>, ctx: ImportContext, options: ImportOptions, out: ImportOutput, hooks: ImportHooks = {}): Promise<ImportReport> {
  try {
    return await importFile(spec, ctx, options, out, hooks);
  } finally {
    await spec.close?.();
  }
}

async function importFile<V>(spec: KindSpec<V>, ctx: ImportContext, options: ImportOptions, out: ImportOutput, hooks: ImportHooks): Promise<ImportReport> {
  const now = out.now ?? (() => performance.now());
  const maxListed = out.maxListed ?? 50;
  const hashStart = now();
  const identity: FileIdentity = await fileIdentity(options.file);
  const hashSeconds = (now() - hashStart) / 1000;

  let bytesRead = 0;
  let delimiter: Delimiter = ',';
  const stream = createReadStream(options.file, { highWaterMark: 1 << 16 });
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of stream) {
      bytesRead += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  }
  const records = parseCsv(counted(), { delimiter: options.delimiter, onDelimiter: (d) => (delimiter = d) });
  try {
    const first = await records.next();
    if (first.done) throw new ImportFileError('the file is empty: a header line naming the columns is expected');
    const header = readHeader(spec, first.value);
    const reasonAt = header.indexOf(REASON_COLUMN);
    const columnAt = new Map(header.map((h, k) => [h, k]));
    const rejectsHeader = first.value.fields.map((f) => f.trim()).filter((_, k) => k !== reasonAt);

    // Resume or start, in one transaction.
    const { run, resumed, abandoned } = await system(ctx.db, 'cli:import', async (tx) => {
      const at = ctx.clock.now();
      const abandoned = options.restart ? await abandonUnfinished(tx, spec.kind, identity, at) : 0;
      const claimed = options.restart ? null : await claimUnfinished(tx, spec.kind, identity, at);
      if (claimed && claimed.updateIdentity !== options.updateIdentity) {
        throw new ResumeMismatchError(
          `an interrupted run of this file ${claimed.updateIdentity ? 'used' : 'did not use'} --update: run it again ${claimed.updateIdentity ? 'with' : 'without'} --update to resume it, or with --restart`,
        );
      }
      return {
        run: claimed ?? (await startRun(tx, { kind: spec.kind, file: identity, updateIdentity: options.updateIdentity, operator: ctx.operator, now: at })),
        resumed: claimed !== null,
        abandoned,
      };
    });
    let cp: Checkpoint = { recordsDone: run.recordsDone, lastLine: run.lastLine, rejectsBytes: run.rejectsBytes, counts: run.counts };
    const { file: rejects, missing: rejectsMissing } = await RejectsFile.open(options.rejectsPath, {
      keepBytes: resumed ? run.rejectsBytes : null,
      header: rejectsHeader,
      delimiter,
    });

    const progress = new Progress(out.stderr, { label: `import ${spec.kind}`, totalBytes: identity.size, now, tty: out.tty, columns: out.columns, intervalMs: out.progressIntervalMs });
    let listed = 0;
    const say = (lines: string[]): void => {
      if (lines.length === 0) return;
      progress.clear();
      for (const line of lines) out.stderr.write(`${line}\n`);
    };
    const list = (rows: readonly { line: number; text: string }[]): void => {
      const shown: string[] = [];
      for (const r of rows) {
        if (listed < maxListed) shown.push(`line ${r.line}: ${r.text}`);
        else if (listed === maxListed) shown.push(`… more rows: see ${options.rejectsPath}`);
        listed++;
      }
      say(shown);
    };

    const toItem = (record: CsvRecord): Item<V> => {
      const fields = reasonAt === -1 ? record.fields : record.fields.filter((_, k) => k !== reasonAt);
      const base = { line: record.line, fields };
      // A malformed row's fields are a guess: the rejects file gets its text as it was, in the first column.
      if (record.problem) return { line: record.line, fields: [record.raw ?? fields.join(delimiter)], valid: null, reason: record.problem };
      if (record.fields.length !== header.length) return { ...base, valid: null, reason: `csv: the row has ${record.fields.length} fields, the header ${header.length}` };
      const cells = (column: string): string => {
        const k = columnAt.get(column);
        return k === undefined ? '' : unneutralise(record.fields[k] ?? '');
      };
      const v = spec.validate(cells, ctx.clock.now());
      return 'problems' in v ? { ...base, valid: null, reason: v.problems.join('; ') } : { ...base, valid: { line: record.line, fields, value: v.value }, reason: null };
    };

    let batchNo = 0;
    let recordsThisRun = 0;
    // Encrypt ahead only while most rows are new: a re-run of a file already imported would throw the work away.
    let speculate = true;

    /** Commits items (in file order) as one transaction; splits on a data error. */
    const commit = async (items: Item<V>[]): Promise<void> => {
      const first = items[0];
      const last = items.at(-1);
      if (!first || !last) return;
      const info: BatchInfo = { batch: ++batchNo, firstLine: first.line, lastLine: last.line, recordsDone: cp.recordsDone + items.length };
      const before = { bytes: rejects.bytes, written: rejects.written };
      for (let attempt = 1; ; attempt++) {
        try {
          const done = await system(ctx.db, 'cli:import', async (tx) => {
            // A batch lost in a server crash is redone by the next run (its checkpoint went with it), so its commit need
            // not wait for the disk; the run's last transaction does wait, and flushes every earlier one with it.
            tx.send(`SET LOCAL synchronous_commit = off`);
            const valid = items.flatMap((i) => (i.valid ? [i.valid] : []));
            const written = valid.length > 0 ? await spec.write(tx, valid) : { counts: {}, rejects: [], notes: [] };
            const invalid: Reject[] = items.flatMap((i) => (i.reason !== null ? [{ line: i.line, fields: i.fields, reason: i.reason }] : []));
            const rejected = [...invalid, ...written.rejects].sort((a, b) => a.line - b.line);
            const delta = addCounts(noCounts(), { ...written.counts, rejected: (written.counts.rejected ?? 0) + invalid.length });
            const next: Checkpoint = {
              recordsDone: info.recordsDone,
              lastLine: info.lastLine,
              rejectsBytes: await rejects.append(rejected),
              counts: addCounts(cp.counts, delta),
            };
            await checkpoint(tx, run, next, ctx.clock.now());
            await audit(tx, ctx.clock, { type: 'import.batch', accountId: null, payload: { runId: run.id, kind: spec.kind, firstLine: info.firstLine, lastLine: info.lastLine, ...delta } }, ctx.operator);
            await hooks.beforeCommit?.(info);
            return { next, rejected, notes: written.notes, delta, valid: valid.length };
          });
          cp = done.next;
          recordsThisRun += items.length;
          speculate = done.delta.created * 2 >= done.valid;
          list(done.rejected.map((r) => ({ line: r.line, text: r.reason })));
          list(done.notes.map((n) => ({ line: n.line, text: `note: ${n.message}` })));
          await hooks.afterCommit?.(info);
          return;
        } catch (err) {
          await rejects.truncate(before.bytes, before.written);
          const code = sqlState(err);
          if (isRetryable(code) && attempt < RETRIES) continue;
          if (!isDataError(code) || !items.some((i) => i.valid)) throw err;
          batchNo--;
          if (items.length === 1) {
            // The database refused this row (its message may quote values: only the code is kept).
            return commit([{ ...first, valid: null, reason: `database: the row was refused (SQLSTATE ${code})` }]);
          }
          const half = Math.ceil(items.length / 2);
          await commit(items.slice(0, half));
          await commit(items.slice(half));
          return;
        }
      }
    };

    async function* batches(): AsyncGenerator<Item<V>[]> {
      let skip = run.recordsDone;
      let batch: Item<V>[] = [];
      for await (const record of records) {
        if (skip > 0) {
          if (--skip === 0) progress.startAt(bytesRead);
          continue;
        }
        batch.push(toItem(record));
        if (batch.length >= options.batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    }

    const start = now();
    const state: { failure: { err: unknown } | null; interrupted: boolean } = { failure: null, interrupted: false };
    let inFlight: Promise<void> = Promise.resolve();
    // Up to two batches ahead of the one committing: one being sealed (worker), one being read and validated.
    const ahead: { batch: Item<V>[]; prepared: Promise<void> }[] = [];
    const prepare = (batch: Item<V>[]): Promise<void> => {
      if (!speculate || !spec.prepare) return Promise.resolve();
      // Failures are the write's to meet: it seals what was not sealed.
      return Promise.resolve(spec.prepare(batch.flatMap((i) => (i.valid ? [i.valid] : [])))).catch(() => undefined);
    };
    const commitNext = async (): Promise<boolean> => {
      const next = ahead.shift();
      if (!next) return false;
      await inFlight;
      if (state.failure) return false;
      if (options.signal?.aborted) {
        state.interrupted = true;
        return false;
      }
      await next.prepared;
      inFlight = commit(next.batch).then(
        () => progress.update(bytesRead, recordsThisRun),
        (err: unknown) => void (state.failure ??= { err }),
      );
      return true;
    };
    try {
      for await (const batch of batches()) {
        ahead.push({ batch, prepared: prepare(batch) });
        if (ahead.length >= 2 && !(await commitNext())) break;
      }
      while (ahead.length > 0 && (await commitNext()));
    } catch (err) {
      state.failure ??= { err };
    }
    await inFlight;
    progress.update(bytesRead, recordsThisRun, true);
    progress.end();
    await rejects.close();
    if (state.failure) throw state.failure.err;
    const interrupted = state.interrupted;

    if (!interrupted) {
      await system(ctx.db, 'cli:import', (tx) => checkpoint(tx, run, cp, ctx.clock.now(), true));
    }
    const seconds = (now() - start) / 1000;
    return {
      runId: run.id,
      resumedAfter: resumed ? { line: run.lastLine, records: run.recordsDone } : null,
      abandoned,
      counts: cp.counts,
      records: cp.recordsDone,
      lastLine: cp.lastLine,
      recordsThisRun,
      seconds,
      hashSeconds,
      rate: seconds > 0 ? recordsThisRun / seconds : 0,
      rejects: cp.rejectsBytes > 0 ? { path: options.rejectsPath, rows: cp.counts.rejected + cp.counts.notApplied } : null,
      rejectsMissing,
      interrupted,
    };
  } finally {
    stream.destroy();
    await records.return(undefined);
  }
}

/** The header's column names, checked against the kind's; a message names columns by position, never by content. */
function readHeader<V>(spec: KindSpec<V>, record: CsvRecord): string[] {
  const expected = `the ${spec.kind} columns are: ${spec.columns.join(', ')}`;
  if (record.problem) throw new ImportFileError(`header (line 1): ${record.problem}`);
  const names = record.fields.map((f) => f.trim().toLowerCase());
  const seen = new Set<string>();
  names.forEach((name, k) => {
    // A cell of the header is only echoed once known to be one of our column names (a file without a header would otherwise print a row).
    if (name !== REASON_COLUMN && !spec.columns.includes(name)) throw new ImportFileError(`header (line 1): column ${k + 1} is not a known column (${expected}; a header line is required)`);
    if (seen.has(name)) throw new ImportFileError(`header (line 1): column ${name} appears twice`);
    seen.add(name);
  });
  const missing = spec.required.filter((c) => !seen.has(c));
  if (missing.length > 0) throw new ImportFileError(`header (line 1): missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (${expected})`);
  return names;
}
