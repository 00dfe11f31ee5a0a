import type { Session } from '../auth/sessions.ts';
import type { Tx } from '../db/contexts.ts';
import type { Fault } from './settings.ts';

/**
 * Test-only faults, switched on by SESAME_FAULT_INJECTION (refused in production by the
 * configuration). `wrong-session-account`: the session-to-account lookup answers another
 * active account (the next one by id, wrapping around), as in the October 2021 incident,
 * where a change of login identifier gave beneficiaries other beneficiaries' files. The
 * session keeps its own login identifier, which is how the tripwire sees it.
 */
export async function injectSessionFault(tx: Tx, fault: Fault | null, session: Session | null): Promise<Session | null> {
  if (fault !== 'wrong-session-account' || !session) return session;
  const { rows } = await tx.query<{ id: string }>(
    `SELECT coalesce(
       (SELECT id FROM accounts WHERE status = 'active' AND id > $1 ORDER BY id LIMIT 1),
       (SELECT id FROM accounts WHERE status = 'active' AND id <> $1 ORDER BY id LIMIT 1)) AS id`,
    [session.accountId],
  );
  const other = rows[0]?.id;
  return other ? { ...session, accountId: other } : session;
}
