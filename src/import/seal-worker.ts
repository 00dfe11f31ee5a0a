import { parentPort, workerData } from 'node:worker_threads';
import { KeyRing } from '../crypto/keyring.ts';
import { poolBytes, RandomPool, sealAccount } from './sealer.ts';

/**
 * Worker thread of SealWorker (seal-pool.ts): seals the new accounts of a batch while the main
 * thread reads and validates the next one and the database writes the previous one. Its
 * answer is one transferred buffer (every value back to back) and a table of lengths.
 */
export interface SealRequest {
  seq: number;
  fields: readonly string[];
  rows: { values: (string | null)[]; email: string | null }[];
}
export interface SealResponse {
  seq: number;
  ids: string[];
  kekIds: string[];
  /** Per row: data key, wrapped key, email index, then each field; -1 for null. */
  lengths: Int32Array;
  bytes: ArrayBuffer;
}

const ring = new KeyRing(workerData as ConstructorParameters<typeof KeyRing>[0]);

parentPort?.on('message', (req: SealRequest) => {
  const pool = new RandomPool(poolBytes(req.rows.length, req.fields.length));
  const sealed = req.rows.map((r) => sealAccount(ring, pool, req.fields, r.values, r.email));
  const per = 3 + req.fields.length;
  const lengths = new Int32Array(sealed.length * per);
  let total = 0;
  sealed.forEach((a, k) => {
    [a.dataKey, a.wrappedKey, a.emailIndex, ...a.columns].forEach((b, j) => {
      lengths[k * per + j] = b === null ? -1 : b.length;
      total += b?.length ?? 0;
    });
  });
  const out = Buffer.alloc(total);
  let at = 0;
  for (const a of sealed) {
    for (const b of [a.dataKey, a.wrappedKey, a.emailIndex, ...a.columns]) {
      if (b === null) continue;
      b.copy(out, at);
      at += b.length;
    }
    a.dataKey.fill(0);
  }
  // Buffer.alloc of this size has its own ArrayBuffer (not the shared pool): safe to transfer.
  const bytes = out.buffer as ArrayBuffer;
  const res: SealResponse = { seq: req.seq, ids: sealed.map((a) => a.id), kekIds: sealed.map((a) => a.kekId), lengths, bytes };
  parentPort?.postMessage(res, [bytes, lengths.buffer as ArrayBuffer]);
});
