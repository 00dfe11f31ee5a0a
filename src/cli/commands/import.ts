import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CsvFileError } from '../../import/csv.ts';
import { UnreadableFileError } from '../../import/file-identity.ts';
import type { KindSpec } from '../../import/kind.ts';
import { beneficiariesImport } from '../../import/beneficiaries.ts';
import { paymentsImport } from '../../import/payments.ts';
import { ImportFileError, ResumeMismatchError, runImport, type ImportReport } from '../../import/runner.ts';
import { thousands } from '../../import/progress.ts';
import { RunTakenOverError, type Counts, type ImportKind } from '../../import/runs.ts';
import { CommandError, EXIT, UsageError, print, type CliIo } from '../io.ts';
import { withRuntime, type Runtime } from '../runtime.ts';
import type { Command } from '../command.ts';

/** `sesame import beneficiaries|payments FILE.csv`: see docs/import.md. */

const DEFAULT_BATCH = 1000;
const MAX_BATCH = 20_000;
const WORKER_FROM_BYTES = 256 * 1024;

interface Parsed {
  file: string;
  batchSize: number;
  rejects: string;
  restart: boolean;
  update: boolean;
  delimiter: ',' | ';' | 'auto';
}

function parse(kind: ImportKind, args: string[], cwd: string): Parsed {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        'batch-size': { type: 'string' },
        rejects: { type: 'string' },
        restart: { type: 'boolean' },
        delimiter: { type: 'string' },
        ...(kind === 'beneficiaries' ? { update: { type: 'boolean' } } : {}),
      },
    }));
  } catch (err) {
    // parseArgs names the flag, not its value.
    throw new UsageError((err as Error).message.split('\n')[0] ?? 'invalid arguments');
  }
  if (positionals.length === 0) throw new UsageError('the CSV file to import is required');
  if (positionals.length > 1) throw new UsageError('one file at a time (put a path that contains spaces in quotes)');
  const file = path.resolve(cwd, positionals[0] ?? '');
  const batchSize = values['batch-size'] === undefined ? DEFAULT_BATCH : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) throw new UsageError(`--batch-size must be an integer from 1 to ${MAX_BATCH}`);
  const delimiter = values.delimiter ?? 'auto';
  if (delimiter !== ',' && delimiter !== ';' && delimiter !== 'auto') throw new UsageError("--delimiter must be ',' or ';' (default: guessed from the header)");
  const rejects = typeof values.rejects === 'string' ? path.resolve(cwd, values.rejects) : file.replace(/(\.csv)?$/i, '.rejects.csv');
  if (rejects === file) throw new UsageError('--rejects must not be the file being imported');
  return { file, batchSize, rejects, restart: values.restart === true, update: values.update === true, delimiter };
}

const n = thousands;

function summary(kind: ImportKind, wording: KindSpec<unknown>['wording'], r: ImportReport): string[] {
  const parts = (Object.entries(wording) as [keyof Counts, string][]).map(([k, label]) => `${n(r.counts[k])} ${label}`);
  const lines = [`import ${kind}: ${n(r.records)} rows: ${parts.join(', ')}`];
  if (r.resumedAfter) lines.push(`resumed an interrupted run after line ${n(r.resumedAfter.line)} (${n(r.resumedAfter.records)} rows were already done)`);
  if (!r.interrupted && r.counts.created + r.counts.updated === 0) lines.push('nothing changed in the database: every valid row was already there as it is');
  if (r.rejects) lines.push(`rejected rows: ${r.rejects.path} (owner-only: it holds personal data; delete it once dealt with)`);
  if (r.rejectsMissing) lines.push('warning: the rejects file of the interrupted run was missing; it only holds the rows rejected since');
  lines.push(`${n(r.recordsThisRun)} rows in ${r.seconds.toFixed(1)} s: ${n(Math.round(r.rate))} rows/s (file checked in ${r.hashSeconds.toFixed(1)} s)`);
  if (r.interrupted) lines.push(`interrupted after line ${n(r.lastLine)}: run the same command again to resume`);
  return lines;
}

function importCommand(kind: ImportKind): Command {
  return {
    name: `import ${kind}`,
    summary: `import ${kind} from the agency's CSV file (streamed, in batches, resumable; see docs/import.md)`,
    usage:
      `sesame import ${kind} FILE.csv [--batch-size N] [--rejects PATH] [--restart] [--delimiter ,|;]${kind === 'beneficiaries' ? ' [--update]' : ''}\n` +
      `exit code: 0 every row imported or unchanged, 1 some rows rejected (see the rejects file) or the import failed, 2 usage error`,
    async run(args, io) {
      const options = parse(kind, args, io.cwd);
      return withRuntime(io, (rt) => execute(kind, options, rt, io));
    },
  };
}

async function execute(kind: ImportKind, o: Parsed, rt: Runtime, io: CliIo): Promise<number> {
  const deps = { ring: rt.ring, clock: rt.clock };
  // Encryption goes to a worker thread for files big enough to repay its start (~100 ms).
  const size = await stat(o.file).then((s) => s.size, () => 0);
  const spec: KindSpec<unknown> = (
    kind === 'beneficiaries' ? beneficiariesImport(deps, { update: o.update, worker: size >= WORKER_FROM_BYTES }) : paymentsImport(deps)
  ) as KindSpec<unknown>;
  // Ctrl-C stops after the batch in flight (a second one kills at once).
  const controller = new AbortController();
  const onSigint = (): void => {
    print(io.stderr, '\nstopping after the current batch (Ctrl-C again to kill)…');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  const stderr = io.stderr as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  let report: ImportReport;
  try {
    report = await runImport(
      spec,
      { db: rt.db, ring: rt.ring, clock: rt.clock, operator: rt.operator },
      { file: o.file, rejectsPath: o.rejects, batchSize: o.batchSize, restart: o.restart, updateIdentity: o.update, delimiter: o.delimiter, signal: controller.signal },
      { stderr: io.stderr, tty: stderr.isTTY === true, columns: stderr.columns },
    );
  } catch (err) {
    if (err instanceof UnreadableFileError || err instanceof ImportFileError || err instanceof ResumeMismatchError) throw new UsageError(err.message);
    if (err instanceof CsvFileError || err instanceof RunTakenOverError) throw new CommandError(`${err.message}; what was committed before stays, and a re-run resumes after it`);
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  for (const line of summary(kind, spec.wording, report)) print(io.stdout, line);
  return report.interrupted || report.counts.rejected + report.counts.notApplied > 0 ? EXIT.failed : EXIT.ok;
}

export const importBeneficiariesCommand = importCommand('beneficiaries');
export const importPaymentsCommand = importCommand('payments');
