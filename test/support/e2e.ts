import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { createMailWorker } from '../../src/mail/worker.ts';
import { siteFromConfig } from '../../src/mail/site.ts';
import { smtpTransport } from '../../src/mail/transport.ts';
import { createLogger } from '../../src/logger.ts';
import { launchChromium, SCREENSHOTS } from './browser.ts';
import { freePort } from './free-port.ts';
import { testApp, type TestApp } from './app.ts';
import { codeIn, smtpInbox, type ReceivedMail } from './smtp-inbox.ts';

export type SmtpInbox = Awaited<ReturnType<typeof smtpInbox>>;

/**
 * Where the app listens. `127.0.0.1`: any free port, the public URL left to its default.
 * `localhost`: a port chosen beforehand and the public URL set to http://localhost:<port>,
 * for WebAuthn (a secure context, and a domain as RP ID: never an IP address).
 */
export type AppHost = '127.0.0.1' | 'localhost';

/** The app listening for Chromium, which is launched; close() stops all of it. */
export interface ChromiumApp {
  t: TestApp;
  browser: Browser;
  /** The app's origin, as the browser reaches it. */
  base: string;
  close(): Promise<void>;
}

/** The same with a real SMTP server, which the app's mail worker delivers to. */
export interface ChromiumAppWithMail extends ChromiumApp {
  inbox: SmtpInbox;
}

async function listening(host: AppHost): Promise<{ env: Record<string, string>; listen(t: TestApp): Promise<string> }> {
  if (host === '127.0.0.1') return { env: {}, listen: (t) => t.app.listen({ port: 0, host }) };
  const port = await freePort();
  const base = `http://localhost:${port}`;
  return {
    env: { SESAME_PUBLIC_URL: base, PORT: String(port) },
    async listen(t) {
      await t.app.listen({ port, host });
      return base;
    },
  };
}

async function start(host: AppHost, withMail: boolean): Promise<ChromiumApp & { inbox: SmtpInbox | undefined }> {
  // What was started, stopped in the reverse order (also when a later step fails).
  const started: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (let stop = started.pop(); stop; stop = started.pop()) await stop();
  };
  try {
    const inbox = withMail ? await smtpInbox() : undefined;
    if (inbox) started.push(() => inbox.close());
    const server = await listening(host);
    const t = await testApp({ env: { ...(inbox ? { SMTP_URL: inbox.url } : {}), ...server.env } });
    started.push(() => t.close());
    if (inbox) {
      const transport = smtpTransport(inbox.url);
      started.push(async () => transport.close?.());
      const worker = createMailWorker({
        db: t.deps.db,
        ring: t.deps.ring,
        clock: t.deps.clock,
        transport,
        from: t.deps.config.mailFrom,
        site: siteFromConfig(t.deps.config),
        logger: createLogger('silent'),
      });
      worker.start();
      started.push(() => worker.stop());
    }
    const base = await server.listen(t);
    const browser = await launchChromium();
    started.push(() => browser.close());
    await mkdir(SCREENSHOTS, { recursive: true });
    return { t, browser, base, inbox, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Registers, in the describe() it is called from, a before() hook starting `launch` and an
 * after() hook stopping what it started. The object returned reads what was started.
 */
function forSuite<T extends ChromiumApp>(launch: () => Promise<T>): Omit<T, 'close'> {
  let app: T | undefined;
  before(async () => {
    app = await launch();
  });
  after(async () => {
    await app?.close();
  });
  return new Proxy({} as Omit<T, 'close'>, {
    get(_target, key) {
      if (!app) throw new Error('the app is not started: read it from a test or a later hook');
      return Reflect.get(app, key);
    },
  });
}

/** The app (no mail delivered) and Chromium, started for the enclosing describe(). */
export function chromiumApp(o: { host?: AppHost } = {}): Omit<ChromiumApp, 'close'> {
  return forSuite(async () => {
    const { inbox: _none, ...app } = await start(o.host ?? '127.0.0.1', false);
    return app;
  });
}

/**
 * The app, its mail worker delivering to a real SMTP server in the test process, and
 * Chromium, started for the enclosing describe().
 */
export function chromiumAppWithMail(o: { host?: AppHost } = {}): Omit<ChromiumAppWithMail, 'close'> {
  return forSuite(async () => {
    const { inbox, ...app } = await start(o.host ?? '127.0.0.1', true);
    assert.ok(inbox);
    return { ...app, inbox };
  });
}

/** The pages of a login by password + emailed code, named as the screenshots of them are. */
export type CodeLoginStep = 'login' | 'send-code' | 'enter-code';

/**
 * Logs in from /login by NIR + password, then the code read from the mail the SMTP server
 * received, and waits for /account. `at` runs on each page before it is filled in (checks,
 * screenshots). Returns the mail that carried the code.
 */
export async function logInWithMailedCode(
  page: Page,
  app: Pick<ChromiumAppWithMail, 'base' | 'inbox'>,
  c: { nir: string; password: string; email: string },
  at: (step: CodeLoginStep) => Promise<void> = async () => undefined,
): Promise<ReceivedMail> {
  await page.goto(`${app.base}/login`);
  await at('login');
  await page.fill('#nir', c.nir);
  await page.fill('#password', c.password);
  await page.click('main form button[type="submit"]:has-text("Se connecter")');
  await page.waitForSelector('button:has-text("Envoyer le code")');
  await at('send-code');
  await page.click('button:has-text("Envoyer le code")');
  await page.waitForSelector('#code');
  await at('enter-code');
  const mail = await app.inbox.next(c.email, /code/i);
  await page.fill('#code', codeIn(mail));
  await page.click('button:has-text("Valider")');
  await page.waitForURL(`${app.base}/account`);
  return mail;
}
