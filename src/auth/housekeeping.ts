import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import { system } from '../db/contexts.ts';
import type { Logger } from '../logger.ts';
import type { AuthPolicy } from './policy.ts';

const DAY = 24 * 3600 * 1000;

/**
 * Deletes what the login no longer needs: flows (and their codes) a day after they expired,
 * client counters whose window is over, sessions a month after they ended (the audit log
 * keeps their start and end), and account counters idle for a month unless they require a
 * recovery (that state must outlive any quiet period).
 */
export async function purgeExpired(db: Database, clock: Clock, policy: AuthPolicy): Promise<Record<string, number>> {
  const now = clock.now().getTime();
  return system(db, 'housekeeping', async (tx) => {
    const count = async (sql: string, params: unknown[]): Promise<number> => (await tx.query(sql, params)).rowCount ?? 0;
    return {
      flows: await count(`DELETE FROM auth_flows WHERE expires_at < $1`, [new Date(now - DAY)]),
      clientCounters: await count(`DELETE FROM client_throttle WHERE window_start < $1`, [new Date(now - policy.ipWindow * 1000)]),
      sessions: await count(`DELETE FROM sessions WHERE ended_at < $1 OR expires_at < $1`, [new Date(now - 30 * DAY)]),
      accountCounters: await count(`DELETE FROM login_throttle WHERE last_failure_at < $1 AND consecutive_failures < $2`, [new Date(now - 30 * DAY), policy.accountRecoveryAfter]),
    };
  });
}

/** Runs purgeExpired every `everyMs` in the server; several processes may run it at once (DELETEs are idempotent). */
export function startHousekeeping(db: Database, clock: Clock, policy: AuthPolicy, logger: Logger, everyMs = 10 * 60 * 1000): () => void {
  const timer = setInterval(() => {
    purgeExpired(db, clock, policy).then(
      (purged) => logger.debug({ purged }, 'housekeeping done'),
      (err: unknown) => logger.error({ err }, 'housekeeping failed'),
    );
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
