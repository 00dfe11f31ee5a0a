import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Config } from '../config.ts';

export interface OutgoingMail {
  /** The Message-ID header, `<outbox-id@host>`, the same on every attempt. */
  messageId: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Date header; from the worker's Clock (absent: now). */
  date?: Date;
}

export interface MailTransport {
  send(msg: OutgoingMail): Promise<void>;
  close?(): Promise<void>;
}

// Nothing in a message is ever read from a file or a URL: content is always given inline.
const SAFE = { disableFileAccess: true, disableUrlAccess: true } as const;

const composed = (msg: OutgoingMail) => ({
  ...SAFE,
  from: msg.from,
  to: msg.to,
  subject: msg.subject,
  text: msg.text,
  html: msg.html,
  messageId: msg.messageId,
  date: msg.date,
  // RFC 3834: out-of-office and other robots must not answer.
  headers: { 'Auto-Submitted': 'auto-generated' },
});

/**
 * SMTP through nodemailer, one connection per message (no pool: the worker sends few
 * messages at a time and a pooled connection would outlive a relay's restart). Timeouts
 * are short so that one message cannot hold its lease for long.
 */
export function smtpTransport(url: string, options: { requireTls?: boolean } = {}): MailTransport {
  const transporter = nodemailer.createTransport({
    url,
    // smtp:// in production must upgrade with STARTTLS or fail: codes travel in these mails.
    requireTLS: options.requireTls === true && url.startsWith('smtp:'),
    pool: false,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    dnsTimeout: 10_000,
    logger: false,
    ...SAFE,
  });
  return {
    async send(msg) {
      await transporter.sendMail(composed(msg));
    },
    async close() {
      transporter.close();
    },
  };
}

const FILE_NAME = /^<([A-Za-z0-9][A-Za-z0-9._-]*)@[^<>\s/\\]+>$/;

/**
 * Development: each message becomes `<dir>/<outbox-id>.eml` (RFC 822). Written to a temp
 * file then renamed, so a redelivery replaces the same file whole: one file per message.
 */
export function fileTransport(dir: string): MailTransport {
  return {
    async send(msg) {
      const name = FILE_NAME.exec(msg.messageId)?.[1];
      if (!name) throw Object.assign(new Error('message id is not usable as a file name'), { code: 'EBADID' });
      const raw = await new MailComposer(composed(msg)).compile().build();
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = path.join(dir, `${name}.eml`);
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, raw, { mode: 0o600 });
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
  };
}

export function transportFor(config: Pick<Config, 'env' | 'smtpUrl' | 'dataDir'>): MailTransport {
  if (config.smtpUrl) return smtpTransport(config.smtpUrl, { requireTls: config.env === 'production' });
  if (config.env === 'production') throw new Error('SMTP_URL is required in production: mail is never written to files there');
  return fileTransport(path.join(config.dataDir, 'mail'));
}

const CONNECTION = new Set(['ECONNECTION', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EPROXY']);
const NAMED: Record<string, string> = { ETIMEDOUT: 'timeout', ETLS: 'tls', EREQUIRETLS: 'tls', EAUTH: 'auth', ENOAUTH: 'auth', EPROTOCOL: 'protocol' };

/**
 * A non-PII class for a delivery error, fit to store and log: `smtp-451`, `connection`,
 * `timeout`, `error-eacces`… Never the error message: SMTP replies often quote the address.
 */
export function deliveryErrorClass(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { responseCode?: unknown; code?: unknown };
  if (typeof e.responseCode === 'number' && Number.isInteger(e.responseCode) && e.responseCode >= 200 && e.responseCode <= 599) {
    return `smtp-${e.responseCode}`;
  }
  if (typeof e.code === 'string') {
    if (CONNECTION.has(e.code)) return 'connection';
    const named = NAMED[e.code];
    if (named) return named;
    if (/^E[A-Z]{1,20}$/.test(e.code)) return `error-${e.code.toLowerCase()}`;
  }
  return 'error';
}
