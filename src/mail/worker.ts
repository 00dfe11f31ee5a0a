import type { Clock } from '../clock.ts';
import { system, type Tx } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import { DecryptionError } from '../crypto/envelope.ts';
import { KeyFileError, type KeyRing } from '../crypto/keyring.ts';
import { accountCipher } from '../accounts/account-keys.ts';
import type { MailFailureReason } from '../audit/catalogue.ts';
import type { Logger } from '../logger.ts';
import { abandonExhausted, claimDue, markFailed, markRetry, markSent, type ClaimedRow } from './delivery-state.ts';
import { openPayload, type OutboxPayload } from './outbox.ts';
import { MailRenderError, renderStored } from './render.ts';
import { DEFAULT_RETRY, backoffMs, type RetryPolicy } from './retry.ts';
import { checkSite, messageIdFor, type MailSite } from './site.ts';
import { deliveryErrorClass, type MailTransport } from './transport.ts';

export interface MailWorkerOptions {
  db: Database;
  ring: KeyRing;
  clock: Clock;
  /** Not closed by the worker: whoever made it closes it. */
  transport: MailTransport;
  from: string;
  site: MailSite;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  /** How long a claimed message is reserved for the claiming worker. */
  leaseMs?: number;
  batchSize?: number;
}

export interface MailRunResult {
  sent: number;
  retried: number;
  failed: number;
}

export interface MailWorker {
  /** Claims one batch of due messages and tries each once. */
  runOnce(): Promise<MailRunResult>;
  /** Polls on a real-time interval; a full batch is followed at once by the next. */
  start(intervalMs?: number): void;
  /** Stops polling and waits for the run in flight. */
  stop(): Promise<void>;
}

type Ready = Omit<ClaimedRow, 'payload'> & { payload: OutboxPayload };
type Outcome = { kind: 'sent' } | { kind: 'retry'; error: string } | { kind: 'failed'; reason: MailFailureReason; error: string | null };

const REASON = 'mail-worker';

export function createMailWorker(options: MailWorkerOptions): MailWorker {
  const { db, ring, clock, transport, from, site, logger } = options;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const leaseMs = options.leaseMs ?? 600_000;
  const batchSize = options.batchSize ?? 10;
  checkSite(site);
  if (!(retry.baseMs >= 0 && retry.maxMs >= retry.baseMs && retry.maxAttempts >= 1 && leaseMs > 0 && batchSize >= 1)) {
    throw new RangeError('mail worker: invalid retry, lease or batch settings');
  }
  // A message is not started when its lease is about to end: the worker that takes it
  // over might send it while this one still is.
  const margin = Math.min(60_000, leaseMs / 2);

  /** Decrypts in the claim transaction; what can never be sent is given up on there. */
  async function open(tx: Tx, row: ClaimedRow): Promise<Ready | Outcome> {
    try {
      const cipher = await accountCipher(tx, ring, row.accountId);
      if (!cipher) return { kind: 'failed', reason: 'shredded', error: null };
      if (!row.payload) return { kind: 'failed', reason: 'undecryptable', error: null };
      return { ...row, payload: openPayload(cipher, row.id, row.payload) };
    } catch (err) {
      // A key-encryption key missing from the ring is an operator's fix away: retry later.
      if (err instanceof KeyFileError) return { kind: 'retry', error: 'key-unavailable' };
      if (err instanceof DecryptionError) return { kind: 'failed', reason: 'undecryptable', error: null };
      throw err;
    }
  }

  async function record(tx: Tx, m: Omit<ClaimedRow, 'payload'>, outcome: Outcome): Promise<keyof MailRunResult | null> {
    const ref = { messageId: m.id, attempts: m.attempts };
    if (outcome.kind === 'sent') {
      if (!(await markSent(tx, clock, m))) return null;
      logger.info({ ...ref, template: m.template }, 'mail sent');
      return 'sent';
    }
    if (outcome.kind === 'retry' && m.attempts < retry.maxAttempts) {
      const delay = backoffMs(m.attempts, retry);
      if (!(await markRetry(tx, m, new Date(clock.now().getTime() + delay), outcome.error))) return null;
      logger.warn({ ...ref, error: outcome.error, retryInMs: delay }, 'mail not delivered; will retry');
      return 'retried';
    }
    const [reason, error] = outcome.kind === 'retry' ? (['attempts-exhausted', outcome.error] as const) : [outcome.reason, outcome.error];
    if (!(await markFailed(tx, clock, m, reason, error))) return null;
    logger.error({ ...ref, reason, error }, 'mail given up');
    return 'failed';
  }

  async function attempt(m: Ready): Promise<Outcome | null> {
    if (clock.now().getTime() > m.lockedUntil.getTime() - margin) return null;
    let mail;
    try {
      mail = renderStored(m.template, m.payload.locale, m.payload.params, site);
    } catch (err) {
      if (err instanceof MailRenderError) return { kind: 'failed', reason: err.reason, error: null };
      throw err;
    }
    try {
      await transport.send({ messageId: messageIdFor(m.id, site), from, to: m.payload.to, ...mail, date: clock.now() });
      return { kind: 'sent' };
    } catch (err) {
      // Only a class is kept: the error's message and SMTP reply may quote the address.
      return { kind: 'retry', error: deliveryErrorClass(err) };
    }
  }

  async function runBatch(): Promise<MailRunResult & { claimed: number }> {
    const result = { sent: 0, retried: 0, failed: 0, claimed: 0 };
    const count = (k: keyof MailRunResult | null): void => {
      if (k) result[k]++;
    };
    const ready = await system(db, REASON, async (tx) => {
      const now = clock.now();
      result.failed += await abandonExhausted(tx, clock, now, batchSize, retry.maxAttempts);
      const rows = await claimDue(tx, now, leaseMs, batchSize, retry.maxAttempts);
      result.claimed = rows.length;
      const out: Ready[] = [];
      for (const row of rows) {
        const opened = await open(tx, row);
        if ('kind' in opened) count(await record(tx, row, opened));
        else out.push(opened);
      }
      return out;
    });
    // Sent outside any transaction (no connection held during SMTP), one commit per message
    // so that a delivered message is marked sent as soon as possible.
    for (const m of ready) {
      const outcome = await attempt(m);
      if (outcome) count(await system(db, REASON, (tx) => record(tx, m, outcome)));
      else logger.warn({ messageId: m.id }, 'mail lease nearly over; left for the next claim');
    }
    return result;
  }

  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.then(
      () => inflight.delete(p),
      () => inflight.delete(p),
    );
    return p;
  };
  let timer: NodeJS.Timeout | undefined;
  let polling = false;

  function schedule(ms: number, intervalMs: number): void {
    timer = setTimeout(() => {
      timer = undefined;
      void track(runBatch()).then(
        (r) => r.claimed >= batchSize,
        (err: unknown) => {
          // Names only: a driver's message may carry values.
          logger.error({ error: err instanceof Error ? err.name : 'unknown', sqlState: (err as { code?: unknown }).code }, 'mail worker run failed');
          return false;
        },
      ).then((more) => {
        if (polling) schedule(more ? 0 : intervalMs, intervalMs);
      });
    }, ms);
    timer.unref();
  }

  return {
    async runOnce() {
      const { sent, retried, failed } = await track(runBatch());
      return { sent, retried, failed };
    },
    start(intervalMs = 5_000) {
      if (polling) return;
      polling = true;
      schedule(0, intervalMs);
    },
    async stop() {
      polling = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await Promise.allSettled([...inflight]);
    },
  };
}
