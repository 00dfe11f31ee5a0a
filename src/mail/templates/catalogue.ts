import { accountCreated, type AccountCreatedParams } from './account-created.ts';
import { approvalDenied, type ApprovalDeniedParams } from './approval-denied.ts';
import { authenticatorChanged, type AuthenticatorChangedParams } from './authenticator-changed.ts';
import { newBrowserLogin, type NewBrowserLoginParams } from './new-browser-login.ts';
import { oneTimeCode, type OneTimeCodeParams } from './one-time-code.ts';
import { passwordChanged, type PasswordChangedParams } from './password-changed.ts';
import { bankDetailsChangeCancelled, type BankDetailsChangeCancelledParams } from './bank-details-change-cancelled.ts';
import { bankDetailsChanged, type BankDetailsChangedParams } from './bank-details-changed.ts';
import { contactEmailChanged, type ContactEmailChangedParams } from './contact-email-changed.ts';
import { contactEmailCode, type ContactEmailCodeParams } from './contact-email-code.ts';
import { incidentCredentialsReset, type IncidentCredentialsResetParams } from './incident-credentials-reset.ts';
import { incidentDataExposed, type IncidentDataExposedParams } from './incident-data-exposed.ts';
import type { MailTemplate } from './types.ts';

/** Every mail Sésame sends: template name → its parameters. */
export interface MailTemplates {
  'account-created': AccountCreatedParams;
  'one-time-code': OneTimeCodeParams;
  'new-browser-login': NewBrowserLoginParams;
  'password-changed': PasswordChangedParams;
  'authenticator-changed': AuthenticatorChangedParams;
  'approval-denied': ApprovalDeniedParams;
  'contact-email-code': ContactEmailCodeParams;
  'contact-email-changed': ContactEmailChangedParams;
  'bank-details-changed': BankDetailsChangedParams;
  'bank-details-change-cancelled': BankDetailsChangeCancelledParams;
  'incident-data-exposed': IncidentDataExposedParams;
  'incident-credentials-reset': IncidentCredentialsResetParams;
}

export type MailTemplateName = keyof MailTemplates;

export const templates: { readonly [K in MailTemplateName]: MailTemplate<MailTemplates[K]> } = {
  'account-created': accountCreated,
  'one-time-code': oneTimeCode,
  'new-browser-login': newBrowserLogin,
  'password-changed': passwordChanged,
  'authenticator-changed': authenticatorChanged,
  'approval-denied': approvalDenied,
  'contact-email-code': contactEmailCode,
  'contact-email-changed': contactEmailChanged,
  'bank-details-changed': bankDetailsChanged,
  'bank-details-change-cancelled': bankDetailsChangeCancelled,
  'incident-data-exposed': incidentDataExposed,
  'incident-credentials-reset': incidentCredentialsReset,
};

export const templateNames = Object.keys(templates) as MailTemplateName[];

export const isTemplateName = (name: string): name is MailTemplateName => Object.hasOwn(templates, name);
