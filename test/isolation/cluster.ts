import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyRing, writeKeyRing } from '../../src/crypto/keyring.ts';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { freePort } from '../support/free-port.ts';
import { codeInbox, type CodeInbox } from './code-inbox.ts';

/**
 * Several real `sesame start` processes, each its own Node process on its own port, on one
 * PostgreSQL database created for the run and one key file, delivering mail to one SMTP
 * server in this process. The database is migrated here first, so that the processes start
 * on it as a release would (no migration race between them).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'src/main.ts');

export interface ServerProcess {
  base: string;
  child: ChildProcess;
  /** The process's last lines of output (logs are JSON, warn and above), for a failure's report. */
  tail(): string[];
  /** Log lines at error level or above so far. */
  errorLines: number;
}

export interface Cluster {
  servers: ServerProcess[];
  bases: string[];
  /** This process's own handle on the run's database (system and citizen contexts, as the app opens them). */
  db: OpenDatabase;
  ring: KeyRing;
  inbox: CodeInbox;
  databaseUrl: string;
  close(): Promise<void>;
}

function startProcess(env: NodeJS.ProcessEnv): ServerProcess {
  const child = spawn(process.execPath, [MAIN, 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const server: ServerProcess = { base: `http://127.0.0.1:${env.PORT}`, child, tail: () => [...lines], errorLines: 0 };
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() === '') continue;
      if (/"level":(5\d|60)\b/.test(line)) server.errorLines++;
      lines.push(line.slice(0, 2000));
      if (lines.length > 40) lines.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return server;
}

/** CPU seconds the process has used so far (Linux /proc; null elsewhere). */
export async function cpuSeconds(server: ServerProcess): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${server.child.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

async function ready(server: ServerProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`server ${server.base} exited (${server.child.exitCode}):\n${server.tail().join('\n')}`);
    try {
      const res = await fetch(`${server.base}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server ${server.base} not ready within ${timeoutMs} ms:\n${server.tail().join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopProcess(server: ServerProcess): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function startCluster(o: { processes: number; env?: Record<string, string> }): Promise<Cluster> {
  const started: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (let stop = started.pop(); stop; stop = started.pop()) await stop().catch((err: unknown) => console.error('cluster close:', err));
  };
  try {
    const created = await createPostgresDatabase();
    started.push(() => created.drop());
    const db = await openDatabase({ databaseUrl: created.url, migrate: true, poolSize: 4 });
    started.push(() => db.close());
    const dir = await mkdtemp(path.join(tmpdir(), 'sesame-isolation-'));
    started.push(() => rm(dir, { recursive: true, force: true }));
    const ring = KeyRing.generate('kek-isolation');
    const keysFile = path.join(dir, 'keys.json');
    await writeKeyRing(keysFile, ring);
    const inbox = await codeInbox();
    started.push(() => inbox.close());

    const servers: ServerProcess[] = [];
    for (let i = 0; i < o.processes; i++) {
      const port = await freePort();
      const server = startProcess({
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? dir,
        SESAME_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(port),
        SESAME_DATA_DIR: path.join(dir, `server-${i}`),
        SESAME_KEYS_FILE: keysFile,
        DATABASE_URL: created.url,
        SMTP_URL: inbox.url,
        LOG_LEVEL: 'warn',
        // Cheap Argon2, as the other tests: hashing is measured by the bench, not here.
        SESAME_ARGON2_MEMORY_KIB: '1024',
        SESAME_ARGON2_TIME_COST: '1',
        ...o.env,
      });
      servers.push(server);
      started.push(() => stopProcess(server));
    }
    await Promise.all(servers.map((s) => ready(s)));
    return { servers, bases: servers.map((s) => s.base), db, ring, inbox, databaseUrl: created.url, close };
  } catch (err) {
    await close();
    throw err;
  }
}
