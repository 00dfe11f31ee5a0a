import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { citizen, system } from '../../src/db/contexts.ts';
import { createAccount } from '../../src/accounts/accounts.ts';
import { shredAccountKey } from '../../src/accounts/account-keys.ts';
import { createLogger } from '../../src/logger.ts';
import { MailRecipientError, queueMail } from '../../src/mail/outbox.ts';
import { smtpTransport, type MailTransport } from '../../src/mail/transport.ts';
import { createMailWorker, type MailWorker, type MailWorkerOptions } from '../../src/mail/worker.ts';
import { backends, type TestDatabase } from '../support/databases.ts';

/** Mail goes through an outbox and a worker, over real SMTP, without loss or double delivery. */
const ring = KeyRing.generate('kek-test');
const site = { serviceName: 'Sésame', siteAddress: 'sesame.example.gouv.fr', timeZone: 'Europe/Paris' };
const retry = { baseMs: 60_000, maxMs: 600_000, maxAttempts: 4 };
const LEASE = 300_000;

// --- a real SMTP server that can be told to refuse -----------------------------------------

type Mode = { refuse: false } | { refuse: true; at: 'rcpt' | 'data'; code: number };
interface Received {
  raw: string;
  rcpt: string[];
}

async function startSmtp() {
  const received: Received[] = [];
  let mode: Mode = { refuse: false };
  // Like real servers, the refusal quotes the address: it must not end up stored or logged.
  const refusal = (code: number, address: string) => Object.assign(new Error(`<${address}>: mailbox busy, try later`), { responseCode: code });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (mode.refuse && mode.at === 'rcpt') cb(refusal(mode.code, address.address));
      else cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (mode.refuse && mode.at === 'data') return cb(refusal(mode.code, session.envelope.rcptTo[0]?.address ?? ''));
        // A little latency so that concurrent workers really overlap.
        setTimeout(() => {
          received.push({ raw: Buffer.concat(chunks).toString('utf8'), rcpt: session.envelope.rcptTo.map((r) => r.address) });
          cb();
        }, 5);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    set(m: Mode) {
      mode = m;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// --- just enough MIME to read what arrived ------------------------------------------------

function decodeQp(s: string): string {
  const bytes: number[] = [];
  const src = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < src.length; i++) {
    if (src[i] === '=' && /^[0-9A-F]{2}$/i.test(src.slice(i + 1, i + 3))) {
      bytes.push(parseInt(src.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(src[i] ?? '', 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

const decodeWords = (s: string): string =>
  s.replace(/\?=\s+=\?/g, '?==?').replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_m, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQp(text.replace(/_/g, ' ')),
  );

function parseMail(raw: string): { header(name: string): string | undefined; text: string; html: string } {
  const split = (part: string): [string, string] => {
    const i = part.indexOf('\r\n\r\n');
    return [part.slice(0, i).replace(/\r\n[ \t]+/g, ' '), part.slice(i + 4)];
  };
  const headerIn = (head: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim();
  const [head, body] = split(raw);
  const boundary = /boundary="?([^";\s]+)"?/i.exec(headerIn(head, 'Content-Type') ?? '')?.[1] ?? '';
  const parts = body.split(`--${boundary}`).slice(1, -1).map(split);
  const content = (type: string): string => {
    const part = parts.find(([h]) => (headerIn(h, 'Content-Type') ?? '').startsWith(type));
    if (!part) return '';
    const cte = headerIn(part[0], 'Content-Transfer-Encoding') ?? '7bit';
    return cte === 'quoted-printable' ? decodeQp(part[1]) : cte === 'base64' ? Buffer.from(part[1], 'base64').toString('utf8') : part[1];
  };
  return { header: (name) => (headerIn(head, name) === undefined ? undefined : decodeWords(headerIn(head, name) ?? '')), text: content('text/plain'), html: content('text/html') };
}

// --------------------------------------------------------------------------------------------

for (const b of backends()) {
  describe(`mail outbox on ${b.name}`, { skip: b.skip }, () => {
    let t: TestDatabase;
    let smtp: Awaited<ReturnType<typeof startSmtp>>;
    let clock: ManualClock;
    let transport: MailTransport;
    const logs: string[] = [];
    const logger = createLogger('debug', { write: (line: string) => void logs.push(line) });
    const workers: MailWorker[] = [];
    const worker = (o: Partial<MailWorkerOptions> = {}): MailWorker => {
      const w = createMailWorker({ db: t.db, ring, clock, transport, from: 'Sésame <ne-pas-repondre@sesame.example.gouv.fr>', site, logger, retry, leaseMs: LEASE, ...o });
      workers.push(w);
      return w;
    };
    let n = 0;
    const account = (email: string | null = `camille.${++n}@example.fr`) =>
      system(t.db, 'test', (tx) =>
        createAccount(tx, { ring, clock }, {
          identity: { nir: `18505780060${String(1000 + ++n).slice(-4)}`, givenNames: 'Camille', familyName: 'Martin', birthDate: '1985-05-17', birthPlace: null, gender: null },
          contact: { email, phone: null, postalAddress: null },
          status: 'active',
          via: 'cli',
        }),
      ).then((a) => ({ id: a.id, email }));
    const queue = (accountId: string, locale: 'fr' | 'en' = 'fr', givenName = 'Camille') =>
      system(t.db, 'test', (tx) => queueMail(tx, { ring, clock }, { accountId, template: 'account-created', locale, params: { givenName } }));
    const row = async (id: string) =>
      (await t.superuser(`SELECT status, attempts, payload, last_error, next_attempt_at, sent_at, locked_until FROM outbox WHERE id = $1`, [id])).rows[0] as {
        status: string; attempts: number; payload: Uint8Array | null; last_error: string | null; next_attempt_at: Date; sent_at: Date | null; locked_until: Date | null;
      };
    const deliveriesOf = (id: string) => smtp.received.filter((m) => parseMail(m.raw).header('Message-ID') === `<${id}@sesame.example.gouv.fr>`);
    const auditOf = async (type: string, id: string) =>
      (await t.superuser(`SELECT payload, actor FROM audit_log WHERE type = $1 AND payload->>'messageId' = $2`, [type, id])).rows as { payload: Record<string, unknown>; actor: string }[];

    before(async () => {
      t = await b.open();
      smtp = await startSmtp();
      transport = smtpTransport(smtp.url);
    });
    beforeEach(async () => {
      clock = new ManualClock();
      smtp.set({ refuse: false });
      smtp.received.length = 0;
      logs.length = 0;
      await t.superuser(`DELETE FROM outbox`);
    });
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
    });
    after(async () => {
      await transport?.close?.();
      await smtp?.close();
      await t?.close();
    });

    test('a mail queued in a committed transaction is delivered once, in French or English, then wiped', async () => {
      const a = await account();
      const fr = await queue(a.id, 'fr');
      const en = await queue(a.id, 'en');
      assert.deepEqual(await worker().runOnce(), { sent: 2, retried: 0, failed: 0 });

      const [mFr] = deliveriesOf(fr);
      const [mEn] = deliveriesOf(en);
      assert.ok(mFr && mEn, 'both arrived');
      assert.deepEqual(mFr.rcpt, [a.email]);
      const pFr = parseMail(mFr.raw);
      assert.equal(pFr.header('Subject'), 'Votre compte Sésame a été créé');
      assert.equal(pFr.header('To'), a.email);
      assert.match(pFr.header('From') ?? '', /ne-pas-repondre@sesame\.example\.gouv\.fr/);
      assert.match(pFr.header('Date') ?? '', /15 Jan 2026 09:00:00 \+0000/, 'Date comes from the Clock');
      assert.match(pFr.text, /Bonjour Camille,/);
      assert.match(pFr.text, /tapez vous-même l’adresse sesame\.example\.gouv\.fr/);
      assert.match(pFr.html, /<html lang="fr"/);
      const pEn = parseMail(mEn.raw);
      assert.equal(pEn.header('Subject'), 'Your Sésame account has been created');
      assert.match(pEn.text, /Hello Camille,/);

      for (const id of [fr, en]) {
        const r = await row(id);
        assert.equal(r.status, 'sent');
        assert.equal(r.payload, null, 'payload wiped once delivered');
        assert.equal(r.attempts, 1);
        assert.deepEqual(r.sent_at, clock.now());
        const sent = await auditOf('mail.sent', id);
        assert.equal(sent.length, 1);
        assert.deepEqual(sent[0]?.payload, { messageId: id, template: 'account-created', attempts: 1 });
        assert.equal(sent[0]?.actor, 'system:mail-worker');
        assert.equal((await auditOf('mail.queued', id)).length, 1);
      }
      clock.advance(86_400_000);
      assert.deepEqual(await worker().runOnce(), { sent: 0, retried: 0, failed: 0 });
      assert.equal(smtp.received.length, 2, 'never sent again');
    });

    test('a rolled-back transaction sends nothing', async () => {
      const a = await account();
      await assert.rejects(
        system(t.db, 'test', async (tx) => {
          await queueMail(tx, { ring, clock }, { accountId: a.id, template: 'account-created', locale: 'fr', params: { givenName: 'Camille' } });
          throw new Error('the change failed');
        }),
        /the change failed/,
      );
      assert.equal((await t.superuser(`SELECT count(*)::int AS n FROM outbox`)).rows[0]?.n, 0);
      assert.equal((await t.superuser(`SELECT count(*)::int AS n FROM audit_log WHERE type = 'mail.queued' AND account_id = $1`, [a.id])).rows[0]?.n, 0);
      assert.deepEqual(await worker().runOnce(), { sent: 0, retried: 0, failed: 0 });
      assert.equal(smtp.received.length, 0);
    });

    test('a citizen action can queue a mail to another address (e.g. the previous one)', async () => {
      const a = await account();
      const id = await citizen(t.db, a.id, (tx) =>
        queueMail(tx, { ring, clock }, { accountId: a.id, template: 'account-created', locale: 'en', params: { givenName: 'Camille' }, to: 'previous@example.fr' }),
      );
      await worker().runOnce();
      assert.deepEqual(deliveriesOf(id)[0]?.rcpt, ['previous@example.fr']);
      assert.equal((await auditOf('mail.queued', id))[0]?.actor, `citizen:${a.id}`);
    });

    test('an account without an email address cannot be mailed: the caller is told, nothing is queued', async () => {
      const a = await account(null);
      await assert.rejects(queue(a.id), MailRecipientError);
      assert.equal((await t.superuser(`SELECT count(*)::int AS n FROM outbox`)).rows[0]?.n, 0);
    });

    for (const refusal of [
      { at: 'rcpt', code: 450 },
      { at: 'data', code: 451 },
      { at: 'data', code: 550 },
    ] as const) {
      test(`a server refusing with ${refusal.code} on ${refusal.at.toUpperCase()}: kept, retried after backoff, delivered exactly once`, async () => {
        const a = await account();
        const id = await queue(a.id);
        smtp.set({ refuse: true, ...refusal });
        const w = worker();
        assert.deepEqual(await w.runOnce(), { sent: 0, retried: 1, failed: 0 });
        let r = await row(id);
        assert.equal(r.status, 'pending');
        assert.equal(r.attempts, 1);
        assert.equal(r.last_error, `smtp-${refusal.code}`);
        assert.ok(r.payload, 'nothing lost');
        assert.equal(r.locked_until, null);
        assert.deepEqual(r.next_attempt_at, new Date(clock.now().getTime() + retry.baseMs));

        // Second failure: the backoff doubles.
        clock.advance(retry.baseMs);
        assert.deepEqual(await w.runOnce(), { sent: 0, retried: 1, failed: 0 });
        r = await row(id);
        assert.deepEqual(r.next_attempt_at, new Date(clock.now().getTime() + 2 * retry.baseMs));

        smtp.set({ refuse: false });
        assert.deepEqual(await w.runOnce(), { sent: 0, retried: 0, failed: 0 }, 'not before next_attempt_at');
        clock.advance(2 * retry.baseMs - 1);
        assert.deepEqual(await w.runOnce(), { sent: 0, retried: 0, failed: 0 }, 'not a millisecond early');
        clock.advance(1);
        assert.deepEqual(await w.runOnce(), { sent: 1, retried: 0, failed: 0 });
        assert.equal(deliveriesOf(id).length, 1);
        r = await row(id);
        assert.equal(r.status, 'sent');
        assert.equal(r.attempts, 3);
        assert.equal(r.last_error, null);

        // What the server said (it quoted the address) is in neither the row, the audit nor the logs.
        const audit = await t.superuser(`SELECT payload::text AS p FROM audit_log WHERE payload->>'messageId' = $1`, [id]);
        for (const text of [...logs, ...audit.rows.map((x) => String(x.p))]) assert.ok(!text.includes(a.email ?? '?'), text);
        assert.ok(logs.some((l) => l.includes(`smtp-${refusal.code}`)), 'the class is logged');
      });
    }

    test('after the last attempt the message is failed and audited, and never tried again', async () => {
      const a = await account();
      const id = await queue(a.id);
      smtp.set({ refuse: true, at: 'data', code: 451 });
      const w = worker();
      for (let i = 1; i < retry.maxAttempts; i++) {
        assert.deepEqual(await w.runOnce(), { sent: 0, retried: 1, failed: 0 }, `attempt ${i}`);
        clock.advance(retry.maxMs);
      }
      assert.deepEqual(await w.runOnce(), { sent: 0, retried: 0, failed: 1 });
      const r = await row(id);
      assert.equal(r.status, 'failed');
      assert.equal(r.attempts, retry.maxAttempts);
      assert.equal(r.last_error, 'smtp-451');
      const failed = await auditOf('mail.failed', id);
      assert.deepEqual(failed.map((f) => f.payload), [
        { messageId: id, template: 'account-created', attempts: retry.maxAttempts, reason: 'attempts-exhausted', lastError: 'smtp-451' },
      ]);
      smtp.set({ refuse: false });
      clock.advance(30 * 86_400_000);
      assert.deepEqual(await w.runOnce(), { sent: 0, retried: 0, failed: 0 });
      assert.equal(smtp.received.length, 0);
    });

    test('two workers running at once never deliver the same message twice', async () => {
      const a = await account();
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) ids.push(await queue(a.id));
      const w1 = worker({ batchSize: 3 });
      const w2 = worker({ batchSize: 3 });
      let total = 0;
      for (let round = 0; round < 10; round++) {
        const results = await Promise.all([w1.runOnce(), w2.runOnce(), w1.runOnce(), w2.runOnce()]);
        const sent = results.reduce((s, r) => s + r.sent, 0);
        if (sent === 0) break;
        total += sent;
      }
      assert.equal(total, 12);
      assert.equal(smtp.received.length, 12);
      for (const id of ids) assert.equal(deliveriesOf(id).length, 1, id);
      const sent = await t.superuser(`SELECT count(*)::int AS n FROM audit_log WHERE type = 'mail.sent'`);
      assert.ok(Number(sent.rows[0]?.n) >= 12);
    });

    test('a worker that dies mid-send: the message waits for the lease, then goes out once, with the same Message-ID', async () => {
      const a = await account();
      const id = await queue(a.id);
      let sending!: () => void;
      const started = new Promise<void>((resolve) => (sending = resolve));
      // The dying worker: its send never returns (process killed while talking to the relay).
      const dying = worker({ transport: { send: () => (sending(), new Promise<void>(() => undefined)) } });
      void dying.runOnce();
      await started;
      const r = await row(id);
      assert.equal(r.attempts, 1, 'the attempt was counted before sending');
      assert.deepEqual(r.locked_until, new Date(clock.now().getTime() + LEASE));

      const other = worker();
      assert.deepEqual(await other.runOnce(), { sent: 0, retried: 0, failed: 0 }, 'leased: not taken over');
      clock.advance(LEASE + 1);
      assert.deepEqual(await other.runOnce(), { sent: 1, retried: 0, failed: 0 });
      assert.equal(deliveriesOf(id).length, 1);
      assert.equal((await row(id)).attempts, 2);
      workers.splice(workers.indexOf(dying), 1); // its run never ends; do not wait for it
    });

    test('a worker that dies on the last attempt: the message is failed as interrupted', async () => {
      const a = await account();
      const id = await queue(a.id);
      let sending!: () => void;
      const started = new Promise<void>((resolve) => (sending = resolve));
      const dying = worker({ retry: { ...retry, maxAttempts: 1 }, transport: { send: () => (sending(), new Promise<void>(() => undefined)) } });
      void dying.runOnce();
      await started;
      workers.splice(workers.indexOf(dying), 1);
      clock.advance(LEASE + 1);
      assert.deepEqual(await worker({ retry: { ...retry, maxAttempts: 1 } }).runOnce(), { sent: 0, retried: 0, failed: 1 });
      assert.equal((await row(id)).status, 'failed');
      assert.equal((await auditOf('mail.failed', id))[0]?.payload.reason, 'interrupted');
      assert.equal(smtp.received.length, 0);
    });

    test('a message whose account key was shredded is failed, not sent', async () => {
      const a = await account();
      const id = await queue(a.id);
      await system(t.db, 'test', (tx) => shredAccountKey(tx, a.id));
      assert.deepEqual(await worker().runOnce(), { sent: 0, retried: 0, failed: 1 });
      assert.equal((await row(id)).status, 'failed');
      assert.equal((await row(id)).last_error, 'shredded');
      assert.equal((await auditOf('mail.failed', id))[0]?.payload.reason, 'shredded');
      assert.equal(smtp.received.length, 0);
    });

    test('start() polls on its own and stop() waits for the run in flight', async () => {
      const a = await account();
      const id = await queue(a.id);
      const w = worker();
      w.start(10);
      w.start(10); // idempotent
      for (let i = 0; i < 200 && deliveriesOf(id).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      await w.stop();
      assert.equal(deliveriesOf(id).length, 1);
      assert.equal((await row(id)).status, 'sent');
      const later = await queue(a.id);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await row(later)).status, 'pending', 'stopped: no more polling');
    });
  });
}
