/**
 * Import benchmark: `sesame import beneficiaries` on a generated file (BENCH_IMPORT_ROWS rows,
 * default 50,000), in process, next to two baselines measured in the same run on the same
 * machine, so that the ratios mean something on a shared, noisy host:
 * - the database alone: the same number of accounts (and their keys) inserted through bare
 *   `INSERT … SELECT FROM unnest(…)` batches of the same size, with constant blobs and no
 *   crypto, validation or file events;
 * - the process alone: validation and encryption of the same rows (NIR and email blind
 *   indexes, row MAC, data key wrap, AES-GCM per field), without the database.
 * Also the re-run of the same file (every row unchanged).
 *
 * `node bench/import.ts` (PGlite; with DATABASE_URL, PostgreSQL too), or through `npm run bench` (BENCH_ONLY=import).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { systemClock } from '../src/clock.ts';
import { KeyRing } from '../src/crypto/keyring.ts';
import { openDatabase, type OpenDatabase } from '../src/db/open.ts';
import { system } from '../src/db/contexts.ts';
import { beneficiariesImport, BENEFICIARY_COLUMNS, type Beneficiary } from '../src/import/beneficiaries.ts';
import type { ValidRow } from '../src/import/kind.ts';
import { runImport } from '../src/import/runner.ts';
import { createPostgresDatabase } from '../test/support/databases.ts';
import { BENEFICIARY_HEADER, beneficiaryCells, beneficiaryRow, writeCsv } from './import-data.ts';

export const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 50_000);
const BATCH = 1000;

export interface ImportFigures {
  rows: number;
  /** Rows per second of `sesame import beneficiaries` (first run: every row created). */
  importRate: number;
  /** Same file again: every row unchanged. */
  rerunRate: number;
  /** Bare unnest INSERT of accounts + account_keys, no crypto. */
  bareInsertRate: number;
  /** Validation + encryption, no database. */
  cryptoRate: number;
  /** CPU time per row of the first import: this process (with PGlite, the database too) and the PostgreSQL backends. */
  cpuPerRow: { processUs: number; databaseUs: number | null };
}

/** CPU time (ms) a process has used so far, from /proc (0 where there is none). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** CPU used by the PostgreSQL backends serving a database (all of them: those of the pool open during the run). */
async function backendsCpu(url: string): Promise<() => Promise<number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const start = new Map<number, number>();
  const last = new Map<number, number>();
  const poll = async (): Promise<void> => {
    const { rows } = await client.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    for (const { pid } of rows) {
      if (!start.has(pid)) start.set(pid, cpuMs(pid));
      last.set(pid, cpuMs(pid));
    }
  };
  await poll();
  const timer = setInterval(() => void poll().catch(() => undefined), 200);
  return async () => {
    clearInterval(timer);
    await poll();
    await client.end();
    let sum = 0;
    for (const [pid, at] of start) sum += (last.get(pid) ?? at) - at;
    return sum;
  };
}

async function withDatabase<T>(databaseUrl: string | undefined, fn: (db: OpenDatabase, url: string | undefined) => Promise<T>): Promise<T> {
  const created = databaseUrl ? await createPostgresDatabase() : undefined;
  const db = await openDatabase({ databaseUrl: created?.url, migrate: true, poolSize: 2 });
  try {
    return await fn(db, created?.url);
  } finally {
    await db.close();
    await created?.drop();
  }
}

/** The database's share: the same rows as blobs of the same sizes, no crypto, one transaction per batch. */
async function bareInsert(db: OpenDatabase, rows: number): Promise<number> {
  const blob = (n: number): Buffer => randomBytes(n);
  const fields = [44, 36, 35, 39, 34, 35, 48, 43, 58].map(blob); // the sealed columns' usual sizes
  const start = performance.now();
  for (let done = 0; done < rows; done += BATCH) {
    const n = Math.min(BATCH, rows - done);
    const ids = Array.from({ length: n }, () => randomUUID());
    const col = (b: Buffer): Buffer[] => Array.from({ length: n }, () => b);
    const unique = (): Buffer[] => {
      const pool = randomBytes(32 * n);
      return ids.map((_, k) => pool.subarray(32 * k, 32 * (k + 1)));
    };
    await system(db, 'bench', async (tx) => {
      tx.send(
        `INSERT INTO accounts (id, status, nir_index, email_index, nir, given_names, family_name, birth_date, birth_place, gender,
                               email, phone, postal_address, agency_row_mac, created_at, updated_at)
         SELECT u.id, 'pending_activation', u.ni, u.ei, u.a, u.b, u.c, u.d, u.e, u.f, u.g, u.h, u.i, u.m, now(), now()
           FROM unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[], $7::bytea[], $8::bytea[],
                       $9::bytea[], $10::bytea[], $11::bytea[], $12::bytea[], $13::bytea[]) AS u (id, ni, ei, a, b, c, d, e, f, g, h, i, m)`,
        [ids, unique(), unique(), ...fields.map(col), unique()],
      );
      await tx.query(
        `INSERT INTO account_keys (account_id, kek_id, wrapped_key, created_at) SELECT u.id, 'kek-bench', u.w, now() FROM unnest($1::uuid[], $2::bytea[]) AS u (id, w)`,
        [ids, col(blob(61))],
      );
    });
  }
  return rows / ((performance.now() - start) / 1000);
}

/** The process's share: every row validated and sealed as the import does, no database. */
function cryptoLoop(ring: KeyRing, rows: number): number {
  const spec = beneficiariesImport({ ring, clock: systemClock }, { update: false });
  const at = new Map<string, number>(BENEFICIARY_COLUMNS.map((c, k) => [c, k]));
  const today = new Date();
  const start = performance.now();
  for (let done = 0; done < rows; done += BATCH) {
    const batch: ValidRow<Beneficiary>[] = [];
    for (let i = done; i < Math.min(rows, done + BATCH); i++) {
      const cells = beneficiaryCells(i);
      const v = spec.validate((c) => cells[at.get(c) ?? -1] ?? '', today);
      if ('problems' in v) throw new Error(`generated row ${i} is invalid: ${v.problems.join('; ')}`);
      batch.push({ line: i + 2, fields: cells, value: v.value });
    }
    spec.prepare?.(batch);
  }
  return rows / ((performance.now() - start) / 1000);
}

export async function importBenchmark(databaseUrl: string | undefined, rows = IMPORT_ROWS): Promise<ImportFigures> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sesame-bench-import-'));
  const file = path.join(dir, 'beneficiaries.csv');
  try {
    await writeCsv(file, BENEFICIARY_HEADER, rows, (i) => beneficiaryRow(i));
    const ring = KeyRing.generate('kek-bench');
    const cryptoRate = cryptoLoop(ring, rows);
    const bareInsertRate = await withDatabase(databaseUrl, (db) => bareInsert(db, rows));
    const [importRate, rerunRate, cpuPerRow] = await withDatabase(databaseUrl, async (db, url) => {
      const once = async (): Promise<number> => {
        const r = await runImport(
          beneficiariesImport({ ring, clock: systemClock }, { update: false, worker: true }),
          { db, ring, clock: systemClock, operator: 'bench' },
          { file, rejectsPath: path.join(dir, 'rejects.csv'), batchSize: BATCH, restart: false, updateIdentity: false, delimiter: 'auto' },
          { stderr: new PassThrough(), tty: false },
        );
        if (r.counts.rejected > 0) throw new Error('the generated file has rejected rows');
        return r.rate;
      };
      await system(db, 'bench', (tx) => tx.query('SELECT 1'));
      const database = url ? await backendsCpu(url) : null;
      const cpu0 = process.cpuUsage();
      const first = await once();
      const cpu = process.cpuUsage(cpu0);
      const databaseMs = database ? await database() : null;
      const perRow = { processUs: (cpu.user + cpu.system) / rows, databaseUs: databaseMs === null ? null : (databaseMs * 1000) / rows };
      return [first, await once(), perRow] as const;
    });
    return { rows, importRate, rerunRate, bareInsertRate, cryptoRate, cpuPerRow };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function describeImport(name: string, f: ImportFigures): string[] {
  const r = (v: number): string => `${Math.round(v).toLocaleString('en-US')} rows/s`;
  const pct = (a: number, b: number): string => `${((a / b) * 100).toFixed(0)}%`;
  const { processUs, databaseUs } = f.cpuPerRow;
  // The importer uses two threads (reading and writing; encryption on a worker): what bounds it is the machine's CPU.
  const total = processUs + (databaseUs ?? 0);
  return [
    `import beneficiaries (${f.rows.toLocaleString('en-US')} rows, batches of ${BATCH}) on ${name}: ${r(f.importRate)} = ${pct(f.importRate, f.bareInsertRate)} of a bare unnest INSERT without crypto (${r(f.bareInsertRate)}), ${pct(f.importRate, f.cryptoRate)} of validation + encryption alone on one thread (${r(f.cryptoRate)}); re-run, all unchanged: ${r(f.rerunRate)}; CPU per row: importer ${processUs.toFixed(0)} µs${databaseUs === null ? ' (database included)' : `, PostgreSQL backends ${databaseUs.toFixed(0)} µs`}, so at most ≈ ${r((2 * 1e6) / total)} with both cores to ourselves`,
  ];
}

if (import.meta.main) {
  for (const [name, url] of [['PGlite', undefined], ['PostgreSQL', process.env.DATABASE_URL]] as const) {
    if (name === 'PostgreSQL' && !url) {
      console.log('import on PostgreSQL: skipped (DATABASE_URL not set)');
      continue;
    }
    for (const line of describeImport(name, await importBenchmark(url))) console.log(line);
  }
}
