import { accountCipher } from '../../accounts/account-keys.ts';
import { readAccount } from '../../accounts/accounts.ts';
import { authenticatorHistory } from '../../auth/authenticators.ts';
import { claimsOfScopes } from '../../oidc/claims.ts';
import { listConnectedServices } from '../../oidc/connected-services.ts';
import type { Clock } from '../../clock.ts';
import { DecryptionError, type FieldCipher } from '../../crypto/envelope.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import type { Tx } from '../../db/contexts.ts';
import { readEvents } from '../../file/events.ts';
import { inForceAt, readBankDetails, readBankState } from '../../file/projections/bank-details.ts';
import { listPayments } from '../../file/projections/payments.ts';
import { listProcedures } from '../../file/projections/procedures.ts';

/**
 * The whole file of one account, in clear, for the citizen's right of access (GDPR Art. 15):
 * identity, contact, bank details (with a held change), procedures with what was declared,
 * payments, every file event decrypted, sessions and their browsers, ways to log in (names and
 * dates: no secret, no public key) and the account's security log. Read in the citizen's
 * context, so row-level security bounds it to that account whatever the code asks.
 */

export const EXPORT_FORMAT = 'sesame-file-export/1';

export interface FileExport {
  format: typeof EXPORT_FORMAT;
  generatedAt: string;
  account: { id: string; status: string; createdAt: string };
  identity: Record<string, string | null>;
  contact: Record<string, string | null>;
  bankDetails: {
    iban: string;
    holder: string;
    effectiveAt: string | null;
    pending: boolean;
    previous: { iban: string; holder: string } | null;
  } | null;
  procedures: unknown[];
  payments: unknown[];
  fileEvents: unknown[];
  sessions: unknown[];
  authenticators: unknown[];
  /** The services the citizen agreed to share data with (OpenID consents) and what each receives. */
  connectedServices: unknown[];
  securityLog: unknown[];
}

interface SessionRow extends Record<string, unknown> {
  id: string;
  account_id: string;
  level: string;
  amr: string[];
  auth_time: Date;
  client: Uint8Array;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  ended_at: Date | null;
  end_reason: string | null;
}

interface AuditRow extends Record<string, unknown> {
  seq: string;
  account_id: string;
  occurred_at: Date;
  type: string;
  payload: unknown;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** A session's browser and address as recorded at login; null if it no longer decrypts. */
function clientOf(cipher: FieldCipher | null, row: SessionRow): unknown {
  if (!cipher) return null;
  try {
    return cipher.decryptJson(`session:${row.id}`, Buffer.from(row.client));
  } catch (err) {
    if (err instanceof DecryptionError || err instanceof SyntaxError) return null;
    throw err;
  }
}

/**
 * Everything, and the ids of the accounts the rows came from (for the tripwire: they must all
 * be the session's). Null when the account is not visible (or was shredded).
 */
export async function buildExport(tx: Tx, deps: { ring: KeyRing; clock: Clock }, accountId: string): Promise<{ doc: FileExport; accountIds: Set<string> } | null> {
  const now = deps.clock.now();
  const [account, bank, bankState, procedures, payments, events, authenticators, sessions, log, cipher, services] = await Promise.all([
    readAccount(tx, deps.ring, accountId),
    readBankDetails(tx, deps.ring, accountId, now),
    readBankState(tx, deps.ring, accountId),
    listProcedures(tx, deps.ring, accountId, 100_000),
    listPayments(tx, deps.ring, accountId, 100_000),
    readEvents(tx, deps.ring, accountId),
    authenticatorHistory(tx, deps.ring, accountId),
    tx.query<SessionRow>(
      `SELECT id, account_id, level, amr, auth_time, client, created_at, last_seen_at, expires_at, ended_at, end_reason
         FROM sessions WHERE account_id = $1 ORDER BY created_at, id`,
      [accountId],
    ),
    tx.query<AuditRow>(`SELECT seq::text AS seq, account_id, occurred_at, type, payload FROM audit_log WHERE account_id = $1 ORDER BY seq`, [accountId]),
    accountCipher(tx, deps.ring, accountId),
    listConnectedServices(tx, accountId),
  ]);
  if (!account) return null;

  const accountIds = new Set<string>([account.id]);
  const from = (id: string): void => void accountIds.add(id);
  if (bank) from(bank.accountId);
  procedures.forEach((p) => from(p.accountId));
  payments.forEach((p) => from(p.accountId));
  events.forEach((e) => from(e.accountId));
  sessions.rows.forEach((s) => from(s.account_id));
  log.rows.forEach((r) => from(r.account_id));

  const doc: FileExport = {
    format: EXPORT_FORMAT,
    generatedAt: now.toISOString(),
    account: { id: account.id, status: account.status, createdAt: account.createdAt.toISOString() },
    identity: { ...account.identity },
    contact: { ...account.contact },
    bankDetails: bank
      ? {
          iban: bank.iban,
          holder: bank.holder,
          effectiveAt: iso(bank.effectiveAt),
          pending: bank.pending,
          previous: bank.previous ? { iban: bank.previous.iban, holder: bank.previous.holder } : null,
        }
      : null,
    procedures: procedures.map((p) => ({
      id: p.id,
      reference: p.reference,
      kind: p.kind,
      status: p.status,
      submittedAt: p.submittedAt,
      updatedAt: p.updatedAt.toISOString(),
      data: p.data,
      note: p.note,
    })),
    payments: payments.map((p) => ({
      id: p.id,
      reference: p.reference,
      date: p.date,
      benefit: p.benefit,
      amountCents: p.amountCents,
      status: p.status,
      // The account paid into, in full: the payment's own, or the one in force on its date.
      iban: p.iban ?? (bankState ? (inForceAt(bankState, new Date(`${p.date}T12:00:00Z`))?.iban ?? null) : null),
    })),
    fileEvents: events.map((e) => ({
      id: e.id,
      seq: e.seq,
      type: e.type,
      occurredAt: e.occurredAt.toISOString(),
      effectiveAt: iso(e.effectiveAt),
      actor: e.actor,
      sessionId: e.sessionId,
      level: e.level,
      cancels: e.cancels,
      data: e.data,
    })),
    sessions: sessions.rows.map((s) => ({
      id: s.id,
      level: s.level,
      amr: s.amr,
      authTime: s.auth_time.toISOString(),
      createdAt: s.created_at.toISOString(),
      lastSeenAt: s.last_seen_at.toISOString(),
      expiresAt: s.expires_at.toISOString(),
      endedAt: iso(s.ended_at),
      endReason: s.end_reason,
      client: clientOf(cipher, s),
    })),
    authenticators: authenticators.map((a) => ({
      id: a.id,
      kind: a.kind,
      name: a.name,
      createdAt: a.createdAt.toISOString(),
      sensitiveFrom: a.sensitiveFrom.toISOString(),
      lastUsedAt: iso(a.lastUsedAt),
      removedAt: iso(a.removedAt),
    })),
    connectedServices: services.map((c) => ({
      clientId: c.clientId,
      service: c.name,
      scopes: c.scopes,
      claims: [...new Set([...claimsOfScopes(c.scopes), ...c.claims])].filter((name) => name !== 'sub'),
      consentedAt: c.consentedAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
      serviceDisabled: c.disabled,
    })),
    securityLog: log.rows.map((r) => ({ seq: Number(r.seq), at: r.occurred_at.toISOString(), type: r.type, details: r.payload })),
  };
  return { doc, accountIds };
}
