import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { Database, OwnerAccess } from './database.ts';
import { system } from './contexts.ts';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

export interface Migration {
  /** File name without extension, e.g. 003_audit. */
  id: string;
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await readFile(new URL(file, MIGRATIONS_DIR), 'utf8');
      return {
        id: file.slice(0, -4),
        version: Number(file.slice(0, 3)),
        name: file.slice(4, -4),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
}

/**
 * Applies pending migrations, each in its own transaction, recorded in schema_migrations.
 * Idempotent; an advisory lock keeps two starting servers from migrating at once; an edited
 * migration that was already applied is refused rather than silently skipped.
 */
export async function migrate(db: OwnerAccess): Promise<{ applied: string[] }> {
  const migrations = await loadMigrations();
  return db.runAsOwner(async (q) => {
    await q.query(`SELECT pg_advisory_lock(74021101)`);
    try {
      await q.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const done = new Map(
        (await q.query<{ version: number; checksum: string }>(`SELECT version, checksum FROM schema_migrations`)).rows.map((r) => [r.version, r.checksum]),
      );
      const applied: string[] = [];
      for (const m of migrations) {
        const known = done.get(m.version);
        if (known !== undefined) {
          if (known !== m.checksum) throw new Error(`migration ${m.id} was changed after being applied`);
          continue;
        }
        await q.query('BEGIN');
        try {
          await q.exec(m.sql);
          await q.query(`INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [m.version, m.name, m.checksum]);
          await q.query('COMMIT');
        } catch (err) {
          await q.query('ROLLBACK');
          throw new Error(`migration ${m.id} failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(`${m.id}`);
      }
      // Servers check the schema version without owner rights (see pendingMigrations).
      await q.query(`GRANT SELECT ON schema_migrations TO sesame_system`);
      return { applied };
    } finally {
      await q.query(`SELECT pg_advisory_unlock(74021101)`);
    }
  });
}

/**
 * Migrations not yet applied; production refuses to start while there are any. Read in a
 * system context, so a server that connects without owner rights can still check.
 */
export async function pendingMigrations(db: Database): Promise<string[]> {
  const migrations = await loadMigrations();
  const applied = await system(db, 'startup', async (tx) => {
    const exists = await tx.query<{ ok: boolean }>(`SELECT has_table_privilege('public.schema_migrations', 'SELECT') AS ok`).catch(() => null);
    if (!exists?.rows[0]?.ok) return new Set<number>();
    return new Set((await tx.query<{ version: number }>(`SELECT version FROM schema_migrations`)).rows.map((r) => r.version));
  }).catch(() => new Set<number>());
  return migrations.filter((m) => !applied.has(m.version)).map((m) => `${m.id}`);
}
