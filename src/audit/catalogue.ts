/**
 * The typed catalogue of audit events. Payloads carry ids, counts and reason codes only:
 * never a NIR, a name, an address, a code or a password.
 */
export interface AuditCatalogue {
  'account.created': { status: 'pending_activation' | 'active'; via: 'cli' | 'import' | 'demo' };
  'account.data_key_shredded': Record<string, never>;
  'keys.kek_rotated': { from: string[]; to: string };
  'keys.rewrapped': { to: string; count: number };
  /** reason: a code, never the NIR (unknown-nir events carry no account id at all). */
  'login.password-failed': { reason: 'invalid-nir' | 'unknown-nir' | 'wrong-password' | 'not-active' };
  'login.password-verified': { flowId: string; rehashed: boolean };
  'login.throttled': { reason: 'client' | 'account-delay' | 'recovery-required'; step: 'login' | 'activation' | 'recovery' | 'password-change' | 'step-up' };
  'login.new-browser': { sessionId: string };
  'code.sent': { flowId: string; purpose: string; delivered: boolean; number: number };
  'code.refused': { flowId: string; reason: 'account-limit' | 'failures-limit' | 'no-email' };
  'code.verified': { flowId: string };
  'code.failed': { flowId: string; reason: string; failures: number };
  'session.started': { sessionId: string; level: string; amr: string[] };
  'session.ended': { sessionId: string; reason: SessionEndReason };
  'sessions.ended': { count: number; reason: SessionEndReason; kept: string | null };
  'password.change-failed': { reason: 'wrong-current' };
  'flows.ended': { count: number; reason: 'password-changed' };
  'password.changed': { via: 'activation' | 'recovery' | 'change'; sessionsEnded: number };
  'account.activated': { flowId: string };
  'recovery.requested': { flowId: string };
  'activation.requested': { flowId: string; matched: boolean };
  'authenticator.added': { authenticatorId: string; kind: 'passkey' | 'totp' | 'device'; coolingOffUntil: string | null };
  'authenticator.removed': { authenticatorId: string; kind: 'passkey' | 'totp' | 'device' };
  'recovery-codes.generated': { count: number };
  /** A strong method refused: wrong or replayed code, unknown passkey, bad signature… (reason codes only). */
  'method.failed': { flowId: string | null; method: 'passkey' | 'totp' | 'recovery-code' | 'device-approval'; reason: string };
  'approval.requested': { flowId: string; approvalId: string; deviceId: string };
  'approval.decided': { flowId: string; approvalId: string; decision: 'approved' | 'denied' | 'mismatch' | 'expired' };
  'approval.refused': { flowId: string; reason: 'rate-limit' | 'no-device' };
  'step-up.required': { sessionId: string; reason: 'level' | 'stale' | 'cooling-off' };
  'step-up.completed': { flowId: string; sessionId: string; level: string; amr: string[] };
  'email.confirmed': { flowId: string; sessionId: string };
  'mail.queued': { messageId: string; template: string };
  'mail.sent': { messageId: string; template: string; attempts: number };
  /** lastError is a class such as `smtp-550` or `connection`, never an SMTP reply (replies quote addresses). */
  'mail.failed': { messageId: string; template: string; attempts: number; reason: MailFailureReason; lastError: string | null };
}

export type SessionEndReason = 'logout' | 'idle' | 'expired' | 'password-changed' | 'recovery' | 'ended-by-citizen' | 'authenticator-removed' | 'approval-denied';

/** Why the mail worker gave up on a message. */
export type MailFailureReason =
  | 'attempts-exhausted'
  | 'interrupted'
  | 'shredded'
  | 'undecryptable'
  | 'unknown-template'
  | 'unknown-locale'
  | 'invalid-params'
  | 'contains-link';

export type AuditType = keyof AuditCatalogue;

export type AuditEvent = {
  [T in AuditType]: { type: T; accountId: string | null; payload: AuditCatalogue[T]; requestId?: string };
}[AuditType];
