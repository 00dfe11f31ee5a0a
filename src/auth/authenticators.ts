import type { Clock } from '../clock.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import { newId } from '../crypto/random.ts';
import { accountCipher } from '../accounts/account-keys.ts';
import { audit } from '../audit/log.ts';
import type { Tx } from '../db/contexts.ts';
import { queueMail } from '../mail/outbox.ts';
import type { MailLocale } from '../mail/templates/types.ts';
import type { AuthPolicy } from './policy.ts';
import { endSessionsRaisedBy } from './sessions.ts';

/**
 * What every strong authenticator shares (passkey, authenticator app, approval device): a
 * name, when it was added and last used, and its cooling-off. What each kind needs to verify
 * lives with its method (methods/passkey.ts, totp.ts, device-approval.ts).
 */
export type AuthenticatorKind = 'passkey' | 'totp' | 'device';

export interface Authenticator {
  id: string;
  kind: AuthenticatorKind;
  name: string;
  createdAt: Date;
  /** Before this, it logs in but opens no sensitive operation. */
  sensitiveFrom: Date;
  lastUsedAt: Date | null;
}

interface Row extends Record<string, unknown> {
  id: string;
  kind: AuthenticatorKind;
  name: Uint8Array;
  created_at: Date;
  sensitive_from: Date;
  last_used_at: Date | null;
}

const nameField = (id: string): string => `authenticator-name:${id}`;

/** The account's live authenticators, oldest first. */
export async function listAuthenticators(tx: Tx, ring: KeyRing, accountId: string, kind?: AuthenticatorKind): Promise<Authenticator[]> {
  return (await readAuthenticators(tx, ring, accountId, { kind, removed: false })).map(({ removedAt: _removed, ...a }) => a);
}

/** Every authenticator the account ever had, removed ones too, oldest first (the GDPR export). */
export async function authenticatorHistory(tx: Tx, ring: KeyRing, accountId: string): Promise<(Authenticator & { removedAt: Date | null })[]> {
  return readAuthenticators(tx, ring, accountId, { removed: true });
}

async function readAuthenticators(tx: Tx, ring: KeyRing, accountId: string, o: { kind?: AuthenticatorKind | undefined; removed: boolean }): Promise<(Authenticator & { removedAt: Date | null })[]> {
  const [{ rows }, cipher] = await Promise.all([
    tx.query<Row & { removed_at: Date | null }>(
      `SELECT id, kind, name, created_at, sensitive_from, last_used_at, removed_at FROM authenticators
        WHERE account_id = $1 AND ($3 OR removed_at IS NULL) AND ($2::text IS NULL OR kind = $2) ORDER BY created_at, id`,
      [accountId, o.kind ?? null, o.removed],
    ),
    accountCipher(tx, ring, accountId),
  ]);
  if (!cipher) return [];
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    name: cipher.decrypt(nameField(r.id), Buffer.from(r.name)),
    createdAt: r.created_at,
    sensitiveFrom: r.sensitive_from,
    lastUsedAt: r.last_used_at,
    removedAt: r.removed_at,
  }));
}

/** The kinds of live authenticators the account has (what the login and step-up pages offer). */
export async function authenticatorKinds(tx: Tx, accountId: string): Promise<Set<AuthenticatorKind>> {
  const { rows } = await tx.query<{ kind: AuthenticatorKind }>(`SELECT DISTINCT kind FROM authenticators WHERE account_id = $1 AND removed_at IS NULL`, [accountId]);
  return new Set(rows.map((r) => r.kind));
}

export interface ChangeContext {
  ring: KeyRing;
  clock: Clock;
  policy: AuthPolicy;
}

/**
 * Records a new authenticator (its method stores its own secret or key in the same
 * transaction, under the returned id) and tells the owner by mail. Added from a session that
 * was not eidas2, it opens sensitive operations only after the cooling-off.
 */
export async function addAuthenticator(
  tx: Tx,
  deps: ChangeContext,
  o: { accountId: string; kind: AuthenticatorKind; name: string; fromStrongSession: boolean; locale: MailLocale; client: { browser: string | null; os: string | null }; requestId?: string },
): Promise<{ id: string; sensitiveFrom: Date }> {
  const { ring, clock, policy } = deps;
  const cipher = await accountCipher(tx, ring, o.accountId);
  if (!cipher) throw new Error('cannot add an authenticator: the account has no data key');
  const id = newId();
  const now = clock.now();
  const sensitiveFrom = o.fromStrongSession ? now : new Date(now.getTime() + policy.coolingOff * 1000);
  tx.send(`INSERT INTO authenticators (id, account_id, kind, name, created_at, sensitive_from) VALUES ($1, $2, $3, $4, $5, $6)`, [
    id,
    o.accountId,
    o.kind,
    cipher.encrypt(nameField(id), o.name),
    now,
    sensitiveFrom,
  ]);
  await audit(tx, clock, {
    type: 'authenticator.added',
    accountId: o.accountId,
    requestId: o.requestId,
    payload: { authenticatorId: id, kind: o.kind, coolingOffUntil: o.fromStrongSession ? null : sensitiveFrom.toISOString() },
  });
  await queueMail(tx, deps, {
    accountId: o.accountId,
    template: 'authenticator-changed',
    locale: o.locale,
    params: { at: now.toISOString(), browser: o.client.browser, os: o.client.os, kind: o.kind, change: 'added' },
  });
  return { id, sensitiveFrom };
}

/**
 * Removes one of the account's authenticators (null if it is not theirs or already gone), tells
 * the owner, and ends every live session it raised (sessions.raised_by: at login or at a
 * step-up), so that a level never outlives the authenticator that gave it. `keep` is a session
 * spared even if it was raised by it (a password change keeps the session that made it);
 * otherwise the session doing the removal ends too when it was one of them (`currentEnded`).
 */
export async function removeAuthenticator(
  tx: Tx,
  deps: ChangeContext,
  o: {
    accountId: string;
    id: string;
    locale: MailLocale;
    client: { browser: string | null; os: string | null };
    requestId?: string;
    /** The session asking for the removal, if any. */
    currentSession?: string | null;
    /** Spare the current session even if the removed authenticator raised it. */
    keepCurrent?: boolean;
  },
): Promise<{ kind: AuthenticatorKind; sessionsEnded: number; currentEnded: boolean } | null> {
  const { clock } = deps;
  const now = clock.now();
  const { rows } = await tx.query<{ kind: AuthenticatorKind }>(
    `UPDATE authenticators SET removed_at = $3 WHERE id = $1 AND account_id = $2 AND removed_at IS NULL RETURNING kind`,
    [o.id, o.accountId, now],
  );
  const kind = rows[0]?.kind;
  if (!kind) return null;
  await audit(tx, clock, { type: 'authenticator.removed', accountId: o.accountId, requestId: o.requestId, payload: { authenticatorId: o.id, kind } });
  const ended = await endSessionsRaisedBy(tx, clock, { accountId: o.accountId, authenticatorId: o.id, current: o.currentSession ?? null, keepCurrent: o.keepCurrent === true, requestId: o.requestId });
  await queueMail(tx, deps, {
    accountId: o.accountId,
    template: 'authenticator-changed',
    locale: o.locale,
    params: { at: now.toISOString(), browser: o.client.browser, os: o.client.os, kind, change: 'removed' },
  });
  return { kind, sessionsEnded: ended.count, currentEnded: ended.currentEnded };
}

/** Marks an authenticator used (shown on the security page); returns its cooling-off end. */
export async function useAuthenticator(tx: Tx, clock: Clock, id: string): Promise<{ sensitiveFrom: Date } | null> {
  const { rows } = await tx.query<{ sensitive_from: Date }>(
    `UPDATE authenticators SET last_used_at = $2 WHERE id = $1 AND removed_at IS NULL RETURNING sensitive_from`,
    [id, clock.now()],
  );
  return rows[0] ? { sensitiveFrom: rows[0].sensitive_from } : null;
}

/** What a step-up can offer: the kinds the account has, those past their cooling-off, and when the first one will be. */
export async function strongMethodsOf(tx: Tx, accountId: string, now: Date): Promise<{ kinds: Set<AuthenticatorKind>; usable: Set<AuthenticatorKind>; usableFrom: Date | null }> {
  const { rows } = await tx.query<{ kind: AuthenticatorKind; sensitive_from: Date }>(
    `SELECT kind, min(sensitive_from) AS sensitive_from FROM authenticators WHERE account_id = $1 AND removed_at IS NULL GROUP BY kind`,
    [accountId],
  );
  const usable = new Set(rows.filter((r) => r.sensitive_from.getTime() <= now.getTime()).map((r) => r.kind));
  const waiting = rows.filter((r) => !usable.has(r.kind)).map((r) => r.sensitive_from.getTime());
  return { kinds: new Set(rows.map((r) => r.kind)), usable, usableFrom: usable.size === 0 && waiting.length > 0 ? new Date(Math.min(...waiting)) : null };
}

/** One live authenticator of the account (null if it is not theirs, or gone). */
export async function authenticatorOf(tx: Tx, accountId: string, id: string): Promise<{ kind: AuthenticatorKind; sensitiveFrom: Date } | null> {
  const { rows } = await tx.query<{ kind: AuthenticatorKind; sensitive_from: Date }>(
    `SELECT kind, sensitive_from FROM authenticators WHERE id = $1 AND account_id = $2 AND removed_at IS NULL`,
    [id, accountId],
  );
  return rows[0] ? { kind: rows[0].kind, sensitiveFrom: rows[0].sensitive_from } : null;
}

/**
 * When the password is reset or changed, authenticators still cooling off are removed: one
 * added by whoever had the password and the mailbox (phished in real time) must not outlive
 * the owner taking the account back. Each removal is mailed and audited like any other.
 */
export async function removeCoolingOff(
  tx: Tx,
  deps: ChangeContext,
  o: { accountId: string; locale: MailLocale; client: { browser: string | null; os: string | null }; requestId?: string; currentSession?: string | null; keepCurrent?: boolean },
): Promise<number> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM authenticators WHERE account_id = $1 AND removed_at IS NULL AND sensitive_from > $2`,
    [o.accountId, deps.clock.now()],
  );
  for (const { id } of rows) await removeAuthenticator(tx, deps, { ...o, id });
  return rows.length;
}
