import { createHash } from 'node:crypto';
import type { Tx } from '../db/contexts.ts';

export type ChainReport =
  | { ok: true; rows: number }
  | { ok: false; rows: number; brokenAt: number; reason: 'hash' | 'link' | 'sequence' };

interface AuditRow extends Record<string, unknown> {
  seq_text: string;
  us: string;
  type: string;
  account_id: string | null;
  actor: string;
  request_id: string | null;
  payload: string;
  prev_hash: Uint8Array;
  hash: Uint8Array;
}

const GENESIS = Buffer.alloc(32);
const PAGE = 1000;

/**
 * Walks the chain in TypeScript (not with the database's own function, which a tamperer
 * could have replaced) and reports the first row whose hash or link does not hold.
 */
export async function verifyAuditChain(tx: Tx): Promise<ChainReport> {
  let prev = GENESIS;
  let expected = 1n;
  let count = 0;
  for (;;) {
    const { rows } = await tx.query<AuditRow>(
      `SELECT seq::text AS seq_text, (extract(epoch FROM occurred_at) * 1000000)::bigint::text AS us, type, account_id::text,
              actor, request_id, payload::text, prev_hash, hash
         FROM audit_log WHERE seq >= $1::bigint ORDER BY audit_log.seq LIMIT ${PAGE}`,
      [expected.toString()],
    );
    for (const r of rows) {
      const seq = BigInt(r.seq_text);
      if (seq !== expected) return { ok: false, rows: count, brokenAt: Number(expected), reason: 'sequence' };
      if (!prev.equals(Buffer.from(r.prev_hash))) return { ok: false, rows: count, brokenAt: Number(seq), reason: 'link' };
      const canonical = [r.seq_text, r.us, r.type, r.account_id ?? '', r.actor, r.request_id ?? '', r.payload].join('|');
      const hash = createHash('sha256').update(prev).update(canonical, 'utf8').digest();
      if (!hash.equals(Buffer.from(r.hash))) return { ok: false, rows: count, brokenAt: Number(seq), reason: 'hash' };
      prev = hash;
      expected++;
      count++;
    }
    if (rows.length < PAGE) return { ok: true, rows: count };
  }
}
