import type { ViolationReason as IsolationViolationReason } from '../isolation/errors.ts';

/**
 * The typed catalogue of audit events. Payloads carry ids, counts and reason codes only:
 * never a NIR, a name, an address, a code or a password.
 */
export interface AuditCatalogue {
  'account.created': { status: 'pending_activation' | 'active'; via: 'cli' | 'import' | 'demo' };
  'account.data_key_shredded': Record<string, never>;
  'keys.kek_rotated': { from: string[]; to: string };
  'keys.rewrapped': { to: string; count: number };
  /** OpenID provider signing keys (src/oidc/signing-keys.ts): kids, algorithms and times, never key material. */
  'oidc.signing-key-created': { kid: string; alg: 'ES256' | 'RS256'; publishedAt: string; activeFrom: string; reason: 'first-start' | 'no-active-key' | 'rotation' };
  'oidc.signing-key-retired': { kid: string; alg: 'ES256' | 'RS256'; retiredAt: string; removeAfter: string; replacedBy: string };
  'oidc.signing-key-deleted': { kid: string; alg: 'ES256' | 'RS256' };
  /**
   * The OpenID provider (src/oidc): client ids, grant/session ids as the provider's opaque
   * HMAC-free references we keep (never a token, code or secret value), scopes and levels.
   */
  'oidc.client-created': { clientId: string; authMethod: string; scopes: string[]; grantTypes: string[] };
  'oidc.client-disabled': { clientId: string };
  'oidc.client-secret-rotated': { clientId: string };
  /** The citizen signed in to a service: the authorisation response went back to it. */
  'oidc.authorized': { clientId: string; sessionId: string | null; acr: string; scopes: string[] };
  'oidc.authorization-refused': { clientId: string | null; error: string };
  'oidc.consent-given': { clientId: string; scopes: string[] };
  'oidc.consent-refused': { clientId: string };
  /** consent-page-changed: withdrawn by a migration, the consent page now listing more for the same scopes (031). */
  'oidc.consent-revoked': { clientId: string; via: 'account' | 'client-disabled' | 'consent-page-changed' };
  /** A token endpoint grant; counts and kinds, never a token. */
  'oidc.token-issued': { clientId: string; grantType: string; idToken: boolean; refreshToken: boolean };
  'oidc.token-revoked': { clientId: string; kind: string };
  'oidc.logout': { clientId: string | null; sessionId: string | null };
  /** One committed batch of an agency import (`sesame import`, src/import/): line range and counts, never a row's data. */
  'import.batch': { runId: string; kind: 'beneficiaries' | 'payments'; firstLine: number; lastLine: number; created: number; updated: number; unchanged: number; notApplied: number; rejected: number };
  /** reason: a code, never the NIR (unknown-nir events carry no account id at all). */
  'login.password-failed': { reason: 'invalid-nir' | 'unknown-nir' | 'wrong-password' | 'not-active' | 'reset-required' | 'changed-meanwhile' };
  'login.password-verified': { flowId: string; rehashed: boolean };
  'login.throttled': { reason: 'client' | 'account-delay' | 'recovery-required'; step: 'login' | 'activation' | 'recovery' | 'password-change' | 'step-up' };
  'login.new-browser': { sessionId: string };
  'code.sent': { flowId: string; purpose: string; delivered: boolean; number: number };
  'code.refused': { flowId: string; reason: 'account-limit' | 'failures-limit' | 'no-email' };
  'code.verified': { flowId: string };
  'code.failed': { flowId: string; reason: string; failures: number };
  'session.started': { sessionId: string; level: string; amr: string[] };
  'session.ended': { sessionId: string; reason: SessionEndReason };
  /** serviceRows: the provider's sessions, grants, codes and tokens of the account ended with them. */
  'sessions.ended': { count: number; reason: SessionEndReason; kept: string | null; serviceRows?: number };
  'password.change-failed': { reason: 'wrong-current' | 'changed-meanwhile' };
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
  /** Contact and bank details (src/account-area/contact, bank-details): ids and reason codes only, never a value. */
  'contact.email-change-requested': { flowId: string; sessionId: string };
  'contact.email-changed': { eventId: string; flowId: string; sessionId: string };
  'contact.phone-changed': { eventId: string; sessionId: string; removed: boolean };
  'contact.address-changed': { eventId: string; sessionId: string };
  'bank-details.changed': { eventId: string; sessionId: string; effectiveAt: string };
  'bank-details.change-cancelled': { eventId: string; cancellationId: string; via: 'account' | 'code'; sessionsEnded: number };
  'bank-details.cancel-refused': { reason: 'throttled' | 'no-code' | 'wrong' | 'exhausted' | 'too-late'; failures: number | null };
  'mail.queued': { messageId: string; template: string };
  'mail.sent': { messageId: string; template: string; attempts: number };
  /** lastError is a class such as `smtp-550` or `connection`, never an SMTP reply (replies quote addresses). */
  'mail.failed': { messageId: string; template: string; attempts: number; reason: MailFailureReason; lastError: string | null };
  /** The citizen downloaded their whole file (right of access); counts only. */
  'file.exported': { sessionId: string; events: number; procedures: number; payments: number };
  /** The agency or an operator decided on a procedure (`sesame procedures status`). */
  'procedure.status-changed': { procedureId: string; from: string; to: string; by: 'agency' | 'operator' };
  /** The identity tripwire withheld a response (ids and a reason code; inWindow: violations counted in the window, all processes). */
  'isolation.violation': { reason: IsolationViolationReason; sessionId: string | null; sessionAccountId: string | null; dataAccountId: string | null; inWindow: number };
  /** The kill switch, one event per scope changed (the reason and message are kept in citizen_access_history, not here). */
  'access.closed': { via: 'cli' | 'console' | 'tripwire'; scope: 'citizens' | 'staff' };
  'access.opened': { via: 'cli' | 'console' | 'tripwire'; scope: 'citizens' | 'staff' };
  /** One step of an incident's timeline (src/incident/incidents.ts), dry runs included; its counts are in incident_steps. */
  'incident.step': { incidentId: string; reference: string; step: string; applied: boolean };
  /** A change to this account's file cancelled by `incident cancel` (the compensating event's id). */
  'incident.change-cancelled': { incidentId: string; eventId: string; cancellationId: string };
  /** A change in the window left alone because a later change of the same thing followed it. */
  'incident.change-conflict': { incidentId: string; eventId: string; laterEventId: string };
  'incident.credentials-reset': { incidentId: string; sessionsEnded: number; authenticatorsRemoved: number };
  'incident.notified': { incidentId: string; messageId: string; template: string };
  /** Staff accounts and the operator console (src/staff, src/console): staff ids and codes only, never a display name. */
  'staff.created': { staffId: string; role: 'operator' };
  'staff.enrolment-code-issued': { staffId: string; codeId: string; expiresAt: string };
  'staff.enrolled': { staffId: string; passkeyId: string; codeId: string };
  'staff.disabled': { staffId: string; sessionsEnded: number };
  /** Every live staff session ended at once: the staff scope closed (src/incident/access.ts). */
  'staff.sessions-ended': { count: number; reason: 'access-closed' };
  'staff.login': { staffId: string; sessionId: string };
  'staff.logout': { staffId: string; sessionId: string };
  'staff.step-up': { staffId: string; sessionId: string };
  'staff.refused': { staffId: string | null; step: 'enrol' | 'login' | 'step-up'; reason: string };
  /** An action taken in the console (after a step-up), e.g. `access-close`; the incident step, when one is open, is recorded as well. */
  'staff.action': { staffId: string; sessionId: string; action: string; scope: string | null; changed: boolean; incident: string | null };
}

export type SessionEndReason = 'logout' | 'idle' | 'expired' | 'password-changed' | 'recovery' | 'ended-by-citizen' | 'authenticator-removed' | 'approval-denied' | 'bank-change-cancelled' | 'access-closed' | 'incident-reset';

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
