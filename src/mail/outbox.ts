import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { Tx } from '../db/contexts.ts';
import { DecryptionError, type FieldCipher } from '../crypto/envelope.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import { newId } from '../crypto/random.ts';
import { accountCipher } from '../accounts/account-keys.ts';
import { readEmail } from '../accounts/accounts.ts';
import { audit } from '../audit/log.ts';
import { templates, type MailTemplateName, type MailTemplates } from './templates/catalogue.ts';
import type { MailLocale } from './templates/types.ts';

export interface QueuedMail<T extends MailTemplateName> {
  accountId: string;
  template: T;
  locale: MailLocale;
  params: MailTemplates[T];
  /** Defaults to the account's email on file (e.g. set it to warn the previous address of a change). */
  to?: string;
}

export class MailRecipientError extends Error {
  override name = 'MailRecipientError';
}

/** Names the offending params by path, never by value (they are PII). */
export class MailParamsError extends Error {
  override name = 'MailParamsError';
}

const email = z.email();

/** What is encrypted: everything that says who the mail is for or what it says about them. */
const payloadSchema = z.object({ to: email, locale: z.enum(['fr', 'en']), params: z.unknown() });
export type OutboxPayload = z.infer<typeof payloadSchema>;

/** The id is part of the field name (and so of the AAD): a payload copied onto another row does not decrypt. */
const payloadField = (outboxId: string): string => `outbox:${outboxId}`;

/** Throws DecryptionError when the payload does not authenticate or is not an outbox payload. */
export function openPayload(cipher: FieldCipher, outboxId: string, blob: Uint8Array): OutboxPayload {
  const json = cipher.decrypt(payloadField(outboxId), Buffer.from(blob));
  let parsed;
  try {
    parsed = payloadSchema.safeParse(JSON.parse(json));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new DecryptionError('outbox payload has an unexpected shape');
  return parsed.data;
}

/**
 * Queues a mail in the caller's transaction: if the change that causes it rolls back, so
 * does the mail. Params are checked now (against the template) so a mistake fails the
 * caller, not the worker hours later. Returns the outbox id (the Message-ID's local part).
 */
export async function queueMail<T extends MailTemplateName>(
  tx: Tx,
  { ring, clock }: { ring: KeyRing; clock: Clock },
  mail: QueuedMail<T>,
): Promise<string> {
  const parsed = templates[mail.template].params.safeParse(mail.params);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ');
    throw new MailParamsError(`cannot queue mail ${mail.template}: ${where}`);
  }
  const params = parsed.data;
  let to = mail.to;
  if (to === undefined) {
    const onFile = await readEmail(tx, ring, mail.accountId);
    if (!onFile) throw new MailRecipientError('cannot queue mail: no email address on file (or the account was shredded)');
    to = onFile;
  }
  if (!email.safeParse(to).success) throw new MailRecipientError('cannot queue mail: the recipient is not a valid email address');
  const cipher = await accountCipher(tx, ring, mail.accountId);
  if (!cipher) throw new MailRecipientError('cannot queue mail: account not found or its data was shredded');

  const id = newId();
  const now = clock.now();
  const payload: OutboxPayload = { to, locale: mail.locale, params };
  tx.send(
    `INSERT INTO outbox (id, account_id, template, payload, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $5)`,
    [id, mail.accountId, mail.template, cipher.encryptJson(payloadField(id), payload), now],
  );
  await audit(tx, clock, { type: 'mail.queued', accountId: mail.accountId, payload: { messageId: id, template: mail.template } });
  return id;
}
