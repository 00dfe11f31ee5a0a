import { nirIndex } from '../../src/accounts/accounts.ts';
import { parseNir } from '../../src/accounts/nir.ts';
import { clientKey } from '../../src/auth/throttle.ts';
import type { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import type { Database } from '../../src/db/database.ts';

/** Read-only looks into the auth tables, through the system context, for rule and attack tests. */
interface Deps {
  db: Database;
  ring: KeyRing;
}

export interface AuditRow {
  seq: number;
  type: string;
  accountId: string | null;
  payload: Record<string, unknown>;
  /** The whole row (but its hashes and time) as JSON text, to scan for what must not be there. */
  json: string;
}

/** The highest audit sequence number so far (0 when empty): take it before, read after. */
export async function auditSeq(db: Database): Promise<number> {
  return system(db, 'test', async (tx) => {
    const { rows } = await tx.query<{ seq: string | number | null }>(`SELECT max(seq) AS seq FROM audit_log`);
    return Number(rows[0]?.seq ?? 0);
  });
}

/** Audit events after `since`, oldest first. */
export async function auditSince(db: Database, since = 0): Promise<AuditRow[]> {
  return system(db, 'test', async (tx) => {
    const { rows } = await tx.query<{ seq: string | number; type: string; account_id: string | null; payload: Record<string, unknown>; json: string }>(
      `SELECT seq, type, account_id, payload,
              json_build_object('type', type, 'account_id', account_id, 'actor', actor, 'request_id', request_id, 'payload', payload)::text AS json
         FROM audit_log WHERE seq > $1 ORDER BY seq`,
      [since],
    );
    return rows.map((r) => ({ seq: Number(r.seq), type: r.type, accountId: r.account_id, payload: r.payload, json: r.json }));
  });
}

export interface FlowRow {
  state: string;
  code_failures: number;
  codes_sent: number;
  ended_at: Date | null;
  account_id: string | null;
}

export async function flowRow(db: Database, flowId: string): Promise<FlowRow | undefined> {
  return system(db, 'test', async (tx) => {
    const { rows } = await tx.query<FlowRow & Record<string, unknown>>(
      `SELECT state, code_failures, codes_sent, ended_at, account_id FROM auth_flows WHERE id = $1`,
      [flowId],
    );
    return rows[0];
  });
}

export interface CodeRow {
  id: string;
  code_mac: Uint8Array;
  sent_at: Date;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  /** The whole row as JSON text. */
  json: string;
}

/** The flow's codes, oldest first. */
export async function codeRows(db: Database, flowId: string): Promise<CodeRow[]> {
  return system(db, 'test', async (tx) => {
    const { rows } = await tx.query<CodeRow & Record<string, unknown>>(
      `SELECT c.id, c.code_mac, c.sent_at, c.expires_at, c.used_at, c.revoked_at, row_to_json(c)::text AS json
         FROM one_time_codes c WHERE flow_id = $1 ORDER BY sent_at, id`,
      [flowId],
    );
    return rows;
  });
}

export interface ThrottleRow {
  consecutive_failures: number;
  blocked_until: Date | null;
}

/** The account throttle row of a NIR (keyed by its blind index, whether an account has it or not). */
export async function throttleOf(deps: Deps, nir: string): Promise<ThrottleRow | undefined> {
  const parsed = parseNir(nir);
  if (!parsed.ok) throw new Error('throttleOf needs a valid NIR');
  const subject = nirIndex(deps.ring, parsed.nir.value);
  return system(deps.db, 'test', async (tx) => {
    const { rows } = await tx.query<ThrottleRow & Record<string, unknown>>(
      // A counter reset by a success (0, no block) holds nothing: reported like no row.
      `SELECT consecutive_failures, blocked_until FROM login_throttle WHERE subject = $1 AND (consecutive_failures > 0 OR blocked_until IS NOT NULL)`,
      [subject],
    );
    return rows[0];
  });
}

/** The failures counted against a client address in its current window (0 when none). */
export async function clientFailures(deps: Deps, ip: string): Promise<number> {
  return system(deps.db, 'test', async (tx) => {
    const { rows } = await tx.query<{ failures: number }>(`SELECT failures FROM client_throttle WHERE client_key = $1`, [clientKey(deps.ring.macKey, ip)]);
    return rows[0]?.failures ?? 0;
  });
}

export interface SessionRow {
  id: string;
  token_hash: Uint8Array;
  level: string;
  amr: string[];
  auth_time: Date;
  client: Uint8Array;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  ended_at: Date | null;
  end_reason: string | null;
  json: string;
}

/** The account's sessions, oldest first. */
export async function sessionsOf(db: Database, accountId: string): Promise<SessionRow[]> {
  return system(db, 'test', async (tx) => {
    const { rows } = await tx.query<SessionRow & Record<string, unknown>>(
      `SELECT s.id, s.token_hash, s.level, s.amr, s.auth_time, s.client, s.created_at, s.last_seen_at, s.expires_at, s.ended_at, s.end_reason,
              row_to_json(s)::text AS json
         FROM sessions s WHERE account_id = $1 ORDER BY created_at, id`,
      [accountId],
    );
    return rows;
  });
}

/** The stored password hash of an account. */
export async function storedHash(db: Database, accountId: string): Promise<string | null> {
  return system(db, 'test', async (tx) => {
    const { rows } = await tx.query<{ secret: string }>(`SELECT secret FROM credentials WHERE account_id = $1 AND kind = 'password'`, [accountId]);
    return rows[0]?.secret ?? null;
  });
}

/**
 * Everything a login-related request could change, as one comparable value: the audit log's
 * length, flows, codes, throttles, sessions, credentials and queued mail.
 */
export async function authState(db: Database): Promise<Record<string, unknown>> {
  return system(db, 'test', async (tx) => {
    const state: Record<string, unknown> = {};
    for (const [name, sql] of [
      ['audit', `SELECT coalesce(max(seq), 0)::text AS v FROM audit_log`],
      ['flows', `SELECT coalesce(string_agg(row_to_json(f)::text, '|' ORDER BY id), '') AS v FROM auth_flows f`],
      ['codes', `SELECT coalesce(string_agg(row_to_json(c)::text, '|' ORDER BY id), '') AS v FROM one_time_codes c`],
      ['account throttle', `SELECT coalesce(string_agg(row_to_json(l)::text, '|' ORDER BY subject), '') AS v FROM login_throttle l`],
      ['client throttle', `SELECT coalesce(string_agg(row_to_json(c)::text, '|' ORDER BY client_key), '') AS v FROM client_throttle c`],
      ['sessions', `SELECT coalesce(string_agg(row_to_json(s)::text, '|' ORDER BY id), '') AS v FROM sessions s`],
      ['credentials', `SELECT coalesce(string_agg(account_id::text || ':' || md5(secret), '|' ORDER BY account_id), '') AS v FROM credentials`],
      ['outbox', `SELECT count(*)::text AS v FROM outbox`],
    ] as const) {
      state[name] = (await tx.query<{ v: string }>(sql)).rows[0]?.v;
    }
    return state;
  });
}
