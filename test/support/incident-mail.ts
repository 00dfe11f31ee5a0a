import assert from 'node:assert/strict';
import { createLogger } from '../../src/logger.ts';
import { siteFromConfig } from '../../src/mail/site.ts';
import { smtpTransport, type MailTransport } from '../../src/mail/transport.ts';
import { createMailWorker } from '../../src/mail/worker.ts';
import type { TestApp } from './app.ts';
import { smtpInbox, type ReceivedMail } from './smtp-inbox.ts';

/**
 * Several mail workers on one real SMTP server, as several server processes would run them:
 * a notification of a whole cohort is delivered in parallel (each SMTP exchange with the test
 * server costs ~100 ms of round trips, a worker sends its claimed batch one mail at a time).
 * Each worker claims its own rows (the outbox lease), so no mail goes twice.
 */
export async function parallelDelivery(t: TestApp, workers = 8): Promise<{ deliver(): Promise<void>; mails: ReceivedMail[]; close(): Promise<void> }> {
  const inbox = await smtpInbox();
  const transports: MailTransport[] = [];
  const pool = Array.from({ length: workers }, () => {
    const transport = smtpTransport(inbox.url);
    transports.push(transport);
    return createMailWorker({ db: t.deps.db, ring: t.deps.ring, clock: t.deps.clock, transport, from: t.deps.config.mailFrom, site: siteFromConfig(t.deps.config), logger: createLogger('silent') });
  });
  return {
    mails: inbox.mails,
    async deliver() {
      for (;;) {
        const runs = await Promise.all(pool.map((w) => w.runOnce()));
        for (const r of runs) assert.equal(r.failed, 0, 'no mail failed');
        if (runs.every((r) => r.sent === 0 && r.retried === 0)) return;
      }
    },
    async close() {
      for (const w of pool) await w.stop();
      for (const tr of transports) await tr.close?.();
      await inbox.close();
    },
  };
}
