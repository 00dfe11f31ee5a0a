import { isDeepStrictEqual } from 'node:util';
import type { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import type { OpenDatabase } from '../../src/db/open.ts';
import { readEvents, type FileEvent } from '../../src/file/events.ts';
import type { Actor } from './scenario.ts';

/**
 * After the run, each citizen's file, decrypted in a system context, against what that
 * citizen did: every phone number they set, in order; every procedure they filed (and the
 * address each change of address set), nothing else; every change made by them, in one of
 * their own sessions. Returns what is wrong (empty when all is right).
 */
export async function verifyFiles(db: OpenDatabase, ring: KeyRing, actors: readonly Actor[]): Promise<{ problems: string[]; events: number }> {
  const problems: string[] = [];
  let events = 0;
  const sessionsOf = await ownerOfSessions(db);
  for (const a of actors) {
    const file = await system(db, 'isolation-test-verify', (tx) => readEvents(tx, ring, a.c.accountId));
    const theirs = file.filter((e) => e.actor.kind !== 'agency');
    events += theirs.length;
    const who = `citizen ${a.c.index}`;
    for (const e of theirs) {
      if (e.accountId !== a.c.accountId) problems.push(`${who}: an event of another file was read back`);
      if (e.actor.kind !== 'citizen' || e.actor.id !== a.c.accountId) problems.push(`${who}: ${e.type} by ${e.actor.kind} ${e.actor.id === a.c.accountId ? 'self' : 'someone else'}`);
      if (!e.sessionId || sessionsOf.get(e.sessionId) !== a.c.accountId) problems.push(`${who}: ${e.type} made in a session that is not theirs`);
    }
    const phones = afters(theirs, 'contact.phone-changed');
    // A change whose answer was lost may or may not be in the file: the rest must still match.
    if (!isDeepStrictEqual(phones, a.expected.phones) && !(a.uncertain > 0 && isSubsequence(a.expected.phones, phones))) {
      problems.push(`${who}: phone changes in the file (${phones.length}) differ from the ones made (${a.expected.phones.length})`);
    }
    const addresses = afters(theirs, 'contact.address-changed');
    if (!isDeepStrictEqual(addresses, a.expected.addresses) && !(a.uncertain > 0 && isSubsequence(a.expected.addresses, addresses))) {
      problems.push(`${who}: address changes in the file (${addresses.length}) differ from the ones made (${a.expected.addresses.length})`);
    }
    const filed = new Map(theirs.filter((e) => e.type === 'procedure.submitted').map((e) => [e.data.key ?? '', kindOf(e)]));
    const expected = a.expected.procedures;
    const missing = [...expected].filter(([id, kind]) => filed.get(id) !== kind).length;
    const extra = [...filed.keys()].filter((id) => !expected.has(id)).length;
    if (missing > 0 || (extra > 0 && extra > a.uncertain)) problems.push(`${who}: procedures in the file differ: ${missing} missing or of another kind, ${extra} not filed by them`);
    for (const e of theirs) {
      const allowed = ['contact.phone-changed', 'contact.address-changed', 'procedure.submitted', 'procedure.status-changed'];
      if (!allowed.includes(e.type)) problems.push(`${who}: unexpected ${e.type} in the file`);
      if (e.type === 'procedure.status-changed' && !filed.has(e.data.key ?? '')) problems.push(`${who}: a status change of a procedure not in their file`);
    }
  }
  return { problems, events };
}

function afters(events: readonly FileEvent[], type: FileEvent['type']): unknown[] {
  return events.filter((e) => e.type === type).map((e) => e.data.after);
}

function kindOf(e: FileEvent): string {
  const after = e.data.after as { kind?: unknown } | null;
  return typeof after?.kind === 'string' ? after.kind : '?';
}

/** Whether `small`, in order, is within `big` (big may hold the changes whose answer was lost). */
function isSubsequence(small: readonly unknown[], big: readonly unknown[]): boolean {
  let i = 0;
  for (const x of big) if (i < small.length && isDeepStrictEqual(x, small[i])) i++;
  return i === small.length;
}

/** Session id → account, for every session (read as the database owner). */
async function ownerOfSessions(db: OpenDatabase): Promise<Map<string, string>> {
  return db.runAsOwner(async (q) => {
    const { rows } = await q.query<{ id: string; account_id: string }>(`SELECT id, account_id FROM sessions`);
    return new Map(rows.map((r) => [r.id, r.account_id]));
  });
}

/** Who owns each procedure (by reference and by id): to attribute what citizens saw. */
export async function procedureOwners(db: OpenDatabase, actors: readonly Actor[]): Promise<{ byReference: Map<string, number>; byId: Map<string, number> }> {
  const indexOf = new Map(actors.map((a) => [a.c.accountId, a.c.index]));
  return db.runAsOwner(async (q) => {
    const { rows } = await q.query<{ id: string; reference: string; account_id: string }>(`SELECT id, reference, account_id FROM file_procedures`);
    return {
      byReference: new Map(rows.map((r) => [r.reference, indexOf.get(r.account_id) ?? -1])),
      byId: new Map(rows.map((r) => [r.id, indexOf.get(r.account_id) ?? -1])),
    };
  });
}

/** What the tripwire recorded during the run, and whether citizen access is still open. */
export async function tripwireState(db: OpenDatabase): Promise<{ violations: number; auditEvents: number; accessOpen: boolean | null }> {
  return db.runAsOwner(async (q) => {
    const { rows } = await q.query<{ violations: number; audit: number; open: boolean | null }>(
      `SELECT (SELECT count(*)::int FROM isolation_violations) AS violations,
              (SELECT count(*)::int FROM audit_log WHERE type LIKE 'isolation.%') AS audit,
              (SELECT open FROM citizen_access) AS open`,
    );
    const r = rows[0];
    return { violations: r?.violations ?? 0, auditEvents: r?.audit ?? 0, accessOpen: r?.open ?? null };
  });
}
