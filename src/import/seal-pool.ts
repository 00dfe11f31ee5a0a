import { Worker } from 'node:worker_threads';
import type { KeyRing } from '../crypto/keyring.ts';
import type { SealedAccount } from './sealer.ts';
import type { SealRequest, SealResponse } from './seal-worker.ts';

/**
 * Sealing of new accounts on a worker thread, so that encryption (about half of an import's
 * CPU) runs on the second core. Answers come back in request order. A worker that fails makes
 * every pending and later request reject: the caller then seals on its own thread.
 */
export class SealWorker {
  readonly #worker: Worker;
  #seq = 0;
  #broken: Error | null = null;
  readonly #pending = new Map<number, { resolve(r: SealResponse): void; reject(e: Error): void }>();

  constructor(ring: KeyRing) {
    this.#worker = new Worker(new URL('./seal-worker.ts', import.meta.url), { workerData: ring.toJSON() });
    this.#worker.on('message', (res: SealResponse) => {
      this.#pending.get(res.seq)?.resolve(res);
      this.#pending.delete(res.seq);
    });
    const fail = (err: Error): void => {
      this.#broken ??= err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', () => fail(new Error('the sealing worker stopped')));
  }

  async seal(fields: readonly string[], rows: SealRequest['rows']): Promise<SealedAccount[]> {
    if (this.#broken) throw this.#broken;
    const seq = ++this.#seq;
    const res = await new Promise<SealResponse>((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      this.#worker.postMessage({ seq, fields, rows } satisfies SealRequest);
    });
    const per = 3 + fields.length;
    const bytes = Buffer.from(res.bytes);
    let at = 0;
    const next = (k: number, j: number): Buffer | null => {
      const n = res.lengths[k * per + j] ?? -1;
      if (n < 0) return null;
      const b = bytes.subarray(at, at + n);
      at += n;
      return b;
    };
    return res.ids.map((id, k) => {
      const [dataKey, wrappedKey, emailIndex, ...columns] = Array.from({ length: per }, (_, j) => next(k, j));
      if (!dataKey || !wrappedKey) throw new Error('the sealing worker answered without a key');
      return { id, kekId: res.kekIds[k] ?? '', dataKey, wrappedKey, emailIndex: emailIndex ?? null, columns };
    });
  }

  async close(): Promise<void> {
    this.#broken ??= new Error('closed');
    await this.#worker.terminate();
  }
}
