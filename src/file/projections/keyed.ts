import { isDeepStrictEqual } from 'node:util';
import type { Tx } from '../../db/contexts.ts';
import type { FieldCipher } from '../../crypto/envelope.ts';
import { accountCipher } from '../../accounts/account-keys.ts';
import { parsePartValue, type Part, type PartValue } from '../catalogue.ts';
import type { AppliedEffect, FileDeps, FileEvent, Projection } from '../events.ts';

/**
 * A projection of a keyed part (procedures, payments): one row per entry, its whole value
 * encrypted in `payload` (the AAD names the entry), a few non-personal columns in clear for
 * listing and lookups. An entry set to null is deleted.
 */
export interface KeyedSpec<P extends 'procedure' | 'payment'> {
  part: P;
  table: 'file_procedures' | 'file_payments';
  /** The clear columns derived from a value, in a fixed order. */
  columns: readonly string[];
  clear(value: NonNullable<PartValue<P>>): unknown[];
}

export interface Entry<P extends Part> {
  id: string;
  accountId: string;
  value: NonNullable<PartValue<P>>;
  version: number;
  updatedAt: Date;
}

export interface EntryRow extends Record<string, unknown> {
  id: string;
  account_id: string;
  payload: Uint8Array;
  version: string;
  updated_at: Date;
}

export const payloadField = (table: string, id: string): string => `${table}:${id}`;

export function decodeEntry<P extends 'procedure' | 'payment'>(spec: KeyedSpec<P>, cipher: FieldCipher, row: EntryRow): Entry<P> {
  const value = parsePartValue(spec.part, cipher.decryptJson(payloadField(spec.table, row.id), Buffer.from(row.payload))) as NonNullable<PartValue<P>>;
  return { id: row.id, accountId: row.account_id, value, version: Number(row.version), updatedAt: row.updated_at };
}

async function cipherOf(tx: Tx, deps: FileDeps, accountId: string): Promise<FieldCipher> {
  const cipher = await accountCipher(tx, deps.ring, accountId);
  if (!cipher) throw new Error('keyed projection: the account has no data key');
  return cipher;
}

export function keyedProjection<P extends 'procedure' | 'payment'>(spec: KeyedSpec<P>): Projection {
  const { table, columns } = spec;
  const selectOne = `SELECT id, account_id, payload, version::text AS version, updated_at FROM ${table} WHERE account_id = $1 AND id = $2`;

  async function write(tx: Tx, cipher: FieldCipher, accountId: string, key: string, value: NonNullable<PartValue<P>>, version: number, at: Date): Promise<void> {
    const clear = spec.clear(value);
    const n = clear.length;
    const placeholders = clear.map((_, i) => `$${i + 6}`).join(', ');
    const updates = columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ');
    // The version guard keeps an older event from overwriting a newer one.
    await tx.query(
      `INSERT INTO ${table} (id, account_id, payload, version, updated_at${n ? ', ' + columns.join(', ') : ''})
       VALUES ($1, $2, $3, $4, $5${n ? ', ' + placeholders : ''})
       ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at${n ? ', ' + updates : ''}
         WHERE ${table}.version < EXCLUDED.version AND ${table}.account_id = EXCLUDED.account_id`,
      [key, accountId, cipher.encryptJson(payloadField(table, key), value), version, at, ...clear],
    );
  }

  return {
    async current(tx, _deps, cipher, accountId, part, key) {
      if (part !== spec.part || key === null) throw new TypeError(`${part} is not a ${spec.part} entry`);
      const { rows } = await tx.query<EntryRow>(selectOne, [accountId, key]);
      const row = rows[0];
      return row ? decodeEntry(spec, cipher, row).value : null;
    },

    async apply(tx, deps, event: AppliedEffect) {
      const { effect } = event;
      if (effect.part !== spec.part || effect.key === null) throw new TypeError(`${effect.part} is not a ${spec.part} entry`);
      if (effect.value === null) {
        await tx.query(`DELETE FROM ${table} WHERE account_id = $1 AND id = $2`, [event.accountId, effect.key]);
        return;
      }
      const cipher = await cipherOf(tx, deps, event.accountId);
      await write(tx, cipher, event.accountId, effect.key, effect.value as NonNullable<PartValue<P>>, event.seq, event.occurredAt);
    },

    async rebuild(tx, deps, accountId, events: readonly FileEvent[]) {
      const expected = new Map<string, { value: NonNullable<PartValue<P>> | null; seq: number; at: Date }>();
      for (const e of events) {
        if (e.effect.part !== spec.part || e.effect.key === null) continue;
        expected.set(e.effect.key, { value: e.effect.value as NonNullable<PartValue<P>> | null, seq: e.seq, at: e.occurredAt });
      }
      const { rows } = await tx.query<EntryRow>(`SELECT id, account_id, payload, version::text AS version, updated_at FROM ${table} WHERE account_id = $1`, [accountId]);
      if (rows.length === 0 && expected.size === 0) return 0;
      const cipher = await cipherOf(tx, deps, accountId);
      let corrected = 0;
      const seen = new Set<string>();
      for (const row of rows) {
        seen.add(row.id);
        const want = expected.get(row.id);
        if (!want || want.value === null) {
          await tx.query(`DELETE FROM ${table} WHERE id = $1`, [row.id]);
          corrected++;
          continue;
        }
        let have: Entry<P> | undefined;
        try {
          have = decodeEntry(spec, cipher, row);
        } catch {
          have = undefined; // tampered: rewritten below
        }
        if (have && have.version === want.seq && have.updatedAt.getTime() === want.at.getTime() && isDeepStrictEqual(have.value, want.value)) continue;
        await tx.query(`DELETE FROM ${table} WHERE id = $1`, [row.id]);
        await write(tx, cipher, accountId, row.id, want.value, want.seq, want.at);
        corrected++;
      }
      for (const [key, want] of expected) {
        if (seen.has(key) || want.value === null) continue;
        await write(tx, cipher, accountId, key, want.value, want.seq, want.at);
        corrected++;
      }
      return corrected;
    },
  };
}
