import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server that the server processes' mail workers deliver to, which keeps only
 * what a long run needs: the one-time codes not yet taken, per recipient, and a count of the
 * other mails by subject. Memory stays flat however many notifications a run sends.
 */
export interface CodeInbox {
  url: string;
  /** The next code mailed to `to` that was not taken before, waiting for it to arrive. */
  nextCode(to: string, timeoutMs?: number): Promise<string>;
  /** Mails received: codes, and the others by subject. */
  counts(): { codes: number; other: Map<string, number> };
  close(): Promise<void>;
}

const CODE = /\b(\d{6})\b/;

export async function codeInbox(): Promise<CodeInbox> {
  const codes = new Map<string, string[]>();
  const waiters = new Map<string, Set<() => void>>();
  const other = new Map<string, number>();
  let codeCount = 0;
  const wake = (to: string): void => {
    for (const w of waiters.get(to) ?? []) w();
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // The run sends hundreds of mails at once from several workers.
    maxClients: 200,
    onData(stream, session, cb) {
      simpleParser(stream).then(
        (parsed) => {
          const subject = parsed.subject ?? '';
          const match = /code/i.test(subject) ? CODE.exec(parsed.text ?? '') : null;
          for (const { address } of session.envelope.rcptTo) {
            if (match?.[1]) {
              codeCount++;
              const list = codes.get(address) ?? [];
              list.push(match[1]);
              codes.set(address, list);
              wake(address);
            } else {
              other.set(subject, (other.get(subject) ?? 0) + 1);
            }
          }
          cb();
        },
        (err: Error) => cb(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    async nextCode(to, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const code = codes.get(to)?.shift();
        if (code) return code;
        if (Date.now() > deadline) throw new Error(`no code mail arrived within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const set = waiters.get(to) ?? new Set();
          waiters.set(to, set);
          const done = (): void => {
            set.delete(done);
            if (set.size === 0) waiters.delete(to);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(done, 500);
          set.add(done);
        });
      }
    },
    counts: () => ({ codes: codeCount, other }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
