/**
 * The typed catalogue of audit events. Payloads carry ids, counts and reason codes only:
 * never a NIR, a name, an address, a code or a password.
 */
export interface AuditCatalogue {
  'account.created': { status: 'pending_activation' | 'active'; via: 'cli' | 'import' | 'demo' };
  'account.data_key_shredded': Record<string, never>;
  'keys.kek_rotated': { from: string[]; to: string };
  'keys.rewrapped': { to: string; count: number };
  'mail.queued': { messageId: string; template: string };
  'mail.sent': { messageId: string; template: string; attempts: number };
  /** lastError is a class such as `smtp-550` or `connection`, never an SMTP reply (replies quote addresses). */
  'mail.failed': { messageId: string; template: string; attempts: number; reason: MailFailureReason; lastError: string | null };
}

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
