import { performance } from 'node:perf_hooks';
import type { Database } from '../db/database.ts';
import type { AccessState } from './access.ts';
import type { AccessScope } from './access-scope.ts';

/**
 * The kill switch is read on every request; several processes share it, so any copy kept
 * here lives at most `ttlMs` (≤ 1 s): a close made by another process (the CLI, the tripwire
 * elsewhere) is obeyed here within that time. A change made by this process replaces the copy
 * at once. Monotonic time: the domain clock (which tests move) has no say in it. One copy per
 * database and scope.
 */
interface Cached {
  state: AccessState;
  at: number;
}

const cache = new WeakMap<Database, Map<AccessScope, Cached>>();

export const MAX_ACCESS_CACHE_MS = 1000;

export function rememberAccess(db: Database, state: AccessState): void {
  let scopes = cache.get(db);
  if (!scopes) cache.set(db, (scopes = new Map()));
  scopes.set(state.scope, { state, at: performance.now() });
}

export function forgetCachedAccess(db: Database): void {
  cache.delete(db);
}

export async function cachedAccess(db: Database, scope: AccessScope, ttlMs: number, read: (db: Database, scope: AccessScope) => Promise<AccessState>): Promise<AccessState> {
  const hit = cache.get(db)?.get(scope);
  if (hit && performance.now() - hit.at < Math.min(ttlMs, MAX_ACCESS_CACHE_MS)) return hit.state;
  return read(db, scope);
}
