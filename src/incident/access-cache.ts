import { performance } from 'node:perf_hooks';
import type { Database } from '../db/database.ts';
import type { AccessState } from './access.ts';

/**
 * The kill switch is read on every citizen request; several processes share it, so any copy
 * kept here lives at most `ttlMs` (≤ 1 s): a close made by another process (the CLI, the
 * tripwire elsewhere) is obeyed here within that time. A change made by this process replaces
 * the copy at once. Monotonic time: the domain clock (which tests move) has no say in it.
 */
interface Cached {
  state: AccessState;
  at: number;
}

const cache = new WeakMap<Database, Cached>();

export const MAX_ACCESS_CACHE_MS = 1000;

export function rememberAccess(db: Database, state: AccessState): void {
  cache.set(db, { state, at: performance.now() });
}

export function forgetCachedAccess(db: Database): void {
  cache.delete(db);
}

export async function cachedAccess(db: Database, ttlMs: number, read: (db: Database) => Promise<AccessState>): Promise<AccessState> {
  const hit = cache.get(db);
  if (hit && performance.now() - hit.at < Math.min(ttlMs, MAX_ACCESS_CACHE_MS)) return hit.state;
  return read(db);
}
