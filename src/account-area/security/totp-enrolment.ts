import { accountCipher } from '../../accounts/account-keys.ts';
import { addAuthenticator } from '../../auth/authenticators.ts';
import { recordNewCodes, regenerateRecoveryCodes, replaceRecoveryCodes } from '../../auth/methods/recovery-codes.ts';
import { confirmEnrolmentCode, newTotpSecret, storeTotpSecret } from '../../auth/methods/totp.ts';
import type { Session } from '../../auth/sessions.ts';
import { DecryptionError } from '../../crypto/envelope.ts';
import { newId } from '../../crypto/random.ts';
import type { FastifyRequest } from 'fastify';
import { UUID } from '../../db/contexts.ts';
import { citizenRequest } from '../../isolation/citizen-request.ts';
import type { MailLocale } from '../../mail/templates/types.ts';
import type { ClientInfo } from '../../web/client.ts';
import type { AccountDeps } from '../account-deps.ts';

/**
 * Adding an authenticator app from "My Account". The secret is made when the page is shown
 * and travels in the form, sealed (AES-GCM) under the account's key with the session's id in
 * the additional data: the browser cannot read or change it, and a sealed secret lifted from
 * one session's page is worthless in another. It is never in a URL, and stored only once the
 * citizen proved their app computes the same codes.
 */
export interface PendingApp {
  /** Base32, as the app gets it. */
  secret: string;
  /** The page's random id: posting it twice adds the app once (008_totp.sql). */
  enrolmentId: string;
  issuedAt: Date;
}

const pendingField = (sessionId: string): string => `totp-enrolment:${sessionId}`;

/** A new secret for the enrolment page, and its sealed form for the page's hidden field. */
export async function newPendingApp(deps: AccountDeps, session: Session, request: FastifyRequest): Promise<{ app: PendingApp; sealed: string }> {
  const app: PendingApp = { secret: newTotpSecret(), enrolmentId: newId(), issuedAt: deps.clock.now() };
  return { app, sealed: await seal(deps, session, request, app) };
}

async function seal(deps: AccountDeps, session: Session, request: FastifyRequest, app: PendingApp): Promise<string> {
  const cipher = await citizenRequest(deps, request, (tx) => accountCipher(tx, deps.ring, session.accountId));
  if (!cipher) throw new Error('cannot enrol an app: the account has no data key');
  return cipher.encryptJson(pendingField(session.id), { s: app.secret, e: app.enrolmentId, t: app.issuedAt.toISOString() }).toString('base64url');
}

/**
 * The pending app of a posted form: null when it does not authenticate (tampered, another
 * session's or account's), is not one, or is older than a flow lives (the page has expired).
 */
export async function openPendingApp(deps: AccountDeps, session: Session, request: FastifyRequest, sealed: string): Promise<PendingApp | null> {
  if (!/^[A-Za-z0-9_-]{20,800}$/.test(sealed)) return null;
  const cipher = await citizenRequest(deps, request, (tx) => accountCipher(tx, deps.ring, session.accountId));
  if (!cipher) return null;
  let value: unknown;
  try {
    value = cipher.decryptJson(pendingField(session.id), Buffer.from(sealed, 'base64url'));
  } catch (err) {
    if (err instanceof DecryptionError || err instanceof SyntaxError) return null;
    throw err;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { s, e, t } = value as Record<string, unknown>;
  if (typeof s !== 'string' || !/^[A-Z2-7]{32}$/.test(s) || typeof e !== 'string' || !UUID.test(e) || typeof t !== 'string') return null;
  const issuedAt = new Date(t);
  const age = deps.clock.now().getTime() - issuedAt.getTime();
  if (Number.isNaN(age) || age < 0 || age > deps.policy.flowTtl * 1000) return null;
  return { secret: s, enrolmentId: e, issuedAt };
}

export type EnrolResult =
  | { ok: true; codes: string[]; sensitiveFrom: Date; coolingOff: boolean }
  | { ok: false; reason: 'code-malformed' | 'code-wrong' }
  /** This page was already posted (a reload of the codes page): the app is on the account. */
  | { ok: false; reason: 'already-added' };

/**
 * Checks the first code, then in one citizen transaction: the authenticator (its mail to the
 * address on file and its audit event, see addAuthenticator), its secret (with the confirming
 * code's step as used) and a new set of 10 recovery codes that replaces any earlier set.
 */
export async function enrolApp(
  deps: AccountDeps,
  o: { session: Session; request: FastifyRequest; app: PendingApp; name: string; code: string; fromStrongSession: boolean; locale: MailLocale; client: ClientInfo; requestId: string },
): Promise<EnrolResult> {
  const { accountId } = o.session;
  const confirmed = confirmEnrolmentCode(o.app.secret, o.code, deps.clock.now());
  if (!confirmed.ok) return { ok: false, reason: confirmed.reason === 'malformed' ? 'code-malformed' : 'code-wrong' };
  return citizenRequest(deps, o.request, async (tx): Promise<EnrolResult> => {
    // Serialises two posts of one page: the second sees the first's row once it committed.
    const [, { rows: done }, cipher] = await Promise.all([
      tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('totp-enrolment:' || $1, 0))`, [accountId]),
      tx.query(`SELECT 1 FROM totp_secrets WHERE enrolment_id = $1`, [o.app.enrolmentId]),
      accountCipher(tx, deps.ring, accountId),
    ]);
    if (done.length > 0) return { ok: false, reason: 'already-added' };
    if (!cipher) throw new Error('cannot enrol an app: the account has no data key');
    const added = await addAuthenticator(tx, deps, { accountId, kind: 'totp', name: o.name, fromStrongSession: o.fromStrongSession, locale: o.locale, client: o.client, requestId: o.requestId });
    storeTotpSecret(tx, cipher, { authenticatorId: added.id, enrolmentId: o.app.enrolmentId, secret: o.app.secret, lastStep: confirmed.step });
    const codes = replaceRecoveryCodes(tx, deps, accountId, added.id);
    // addAuthenticator's mail already tells the owner; the new set is audited.
    await recordNewCodes(tx, deps, { accountId, locale: o.locale, client: o.client, requestId: o.requestId, mail: false });
    return { ok: true, codes, sensitiveFrom: added.sensitiveFrom, coolingOff: !o.fromStrongSession };
  });
}

/** A new set of recovery codes (null: the account has no app to back up). */
export async function regenerateCodes(deps: AccountDeps, o: { session: Session; request: FastifyRequest; locale: MailLocale; client: ClientInfo; requestId: string }): Promise<string[] | null> {
  const { accountId } = o.session;
  return citizenRequest(deps, o.request, (tx) => regenerateRecoveryCodes(tx, deps, { accountId, locale: o.locale, client: o.client, requestId: o.requestId }));
}
