import type { Queryable } from '../db/database.ts';

/** One oidc_payloads row as PgAdapter.upsert writes it. */
export type UpsertRow = readonly [
  model: string,
  idMac: Buffer,
  keyId: string,
  payload: Buffer,
  grantMac: Buffer | null,
  uidMac: Buffer | null,
  userCodeMac: Buffer | null,
  accountId: string | null,
  expiresAt: Date | null,
  consumedAt: Date | null,
];

const COLUMNS = 'model, id_mac, key_id, payload, grant_mac, uid_mac, user_code_mac, account_id, expires_at, consumed_at';
// A consumed code stays consumed whatever is saved over it later.
const ON_CONFLICT = `ON CONFLICT (model, id_mac) DO UPDATE SET key_id = EXCLUDED.key_id, payload = EXCLUDED.payload, grant_mac = EXCLUDED.grant_mac,
    uid_mac = EXCLUDED.uid_mac, user_code_mac = EXCLUDED.user_code_mac, account_id = EXCLUDED.account_id,
    expires_at = EXCLUDED.expires_at, consumed_at = COALESCE(oidc_payloads.consumed_at, EXCLUDED.consumed_at)`;

export const UPSERT_ONE = `INSERT INTO oidc_payloads (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ${ON_CONFLICT}`;

/** Any number of rows, one prepared statement: one array per column. */
const UPSERT_MANY = `INSERT INTO oidc_payloads (${COLUMNS})
  SELECT * FROM unnest($1::text[], $2::bytea[], $3::uuid[], $4::bytea[], $5::bytea[], $6::bytea[], $7::bytea[], $8::uuid[], $9::timestamptz[], $10::timestamptz[]) ${ON_CONFLICT}`;

const withConsumed = (r: UpsertRow, consumedAt: Date): UpsertRow => [r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], consumedAt];

/**
 * The upserts of one event-loop turn (the tokens, codes and sessions that concurrent requests
 * save), written as one statement: one socket write, one round trip and one WAL flush for all
 * of them instead of one each (the token endpoint's largest cost, bench/README.md). Each caller
 * still waits for its row to be committed before it answers. Autocommit, so the rows of a turn
 * commit together or not at all; when such a statement fails, each row is tried again alone,
 * so that only the row at fault fails its caller.
 *
 * The same row twice in a turn (a save of what was just saved) is written once, as the later
 * save, keeping the earlier consumed mark, as two statements in a row would have left it.
 */
export class UpsertBatch {
  readonly #statements: Queryable;
  readonly #onFallback: (err: unknown, rows: number) => void;
  #rows = new Map<string, UpsertRow>();
  #written: Promise<Map<string, unknown>> | null = null;

  /** `onFallback`: a turn's statement failed and its rows are being tried one by one (logged: it should not happen). */
  constructor(statements: Queryable, onFallback: (err: unknown, rows: number) => void = () => {}) {
    this.#statements = statements;
    this.#onFallback = onFallback;
  }

  async add(row: UpsertRow): Promise<void> {
    const key = `${row[0]}\0${row[1].toString('base64url')}`;
    const earlier = this.#rows.get(key);
    // Two statements in a row would keep the first consumed mark (COALESCE): so does the merge.
    this.#rows.set(key, earlier?.[9] ? withConsumed(row, earlier[9]) : row);
    if (!this.#written) {
      this.#written = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#flush());
    }
    const failures = await this.#written;
    if (failures.has(key)) throw failures.get(key);
  }

  /** Resolves with the rows that could not be written and why. */
  async #flush(): Promise<Map<string, unknown>> {
    const rows = this.#rows;
    this.#rows = new Map();
    this.#written = null;
    const failures = new Map<string, unknown>();
    const alone = (key: string, row: UpsertRow): Promise<unknown> => this.#statements.query(UPSERT_ONE, row).catch((err: unknown) => failures.set(key, err));
    if (rows.size === 1) {
      for (const [key, row] of rows) await alone(key, row);
      return failures;
    }
    // Rows in one order in every batch: two batches on the wire at once, sharing rows, then take
    // their row locks in the same order and cannot deadlock each other.
    const sorted = [...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const all = sorted.map(([, row]) => row);
    try {
      await this.#statements.query(UPSERT_MANY, Array.from({ length: 10 }, (_, column) => all.map((row) => row[column] ?? null)));
    } catch (err) {
      this.#onFallback(err, all.length);
      await Promise.all(sorted.map(([key, row]) => alone(key, row)));
    }
    return failures;
  }
}
