import { createHash } from 'node:crypto';
import { link, readFile, realpath, rename, unlink, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import path from 'node:path';

export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError';
}

const busy = (dataDir: string, holder: number | null): DataDirBusyError =>
  new DataDirBusyError(
    `the embedded database in ${dataDir} is in use${holder ? ` by process ${holder}` : ''}: stop the server first, or use PostgreSQL (DATABASE_URL)`,
  );

/**
 * PGlite is one process's database: a second process opening the same directory (a CLI
 * command while the server runs, two servers started at once) would corrupt it. Only one
 * process may have it, and a process that dies must not leave it taken.
 *
 * On Linux the lock is a listening socket in the abstract namespace, named after the
 * directory: the kernel gives the name to one process at a time and takes it back when that
 * process ends, however it ends, so there is no stale lock to clear and no race in clearing
 * one. A process refused the name asks the holder for its pid (for the message). Elsewhere, a
 * lock file (lockFile below). Returns the release.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  if (process.platform !== 'linux') return lockFile(dataDir);
  // One name per directory, however it is written (relative, through a symlink).
  const absolute = path.resolve(dataDir);
  const dir = await realpath(absolute).catch(async () => path.join(await realpath(path.dirname(absolute)), path.basename(absolute)));
  const name = `\0sesame-pglite-${createHash('sha256').update(dir).digest('hex').slice(0, 40)}`;
  // Whoever connects gets the pid and is hung up on within a second: a client that never
  // closes its end must not hold the release up, nor keep this process alive.
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.unref();
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    socket.end(String(process.pid));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(name, () => resolve());
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw busy(dataDir, await holderPid(name));
  }
  // The lock never keeps the process alive by itself.
  server.unref();
  return async () => {
    server.close();
    for (const socket of sockets) socket.destroy();
  };
}

/** The holder's pid, as it answers on the lock's socket; null if it does not within a second. */
function holderPid(name: string): Promise<number | null> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(name);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const pid = Number(text);
      resolve(Number.isInteger(pid) && pid > 0 ? pid : null);
    };
    const timer = setTimeout(done, 1000);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('end', done);
    socket.on('error', done);
  });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The pid a lock file names; 'gone' when there is none, 'garbage' when it names no pid. */
async function holderOf(file: string): Promise<number | 'gone' | 'garbage'> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (text === null) return 'gone';
  const pid = Number(text);
  return Number.isInteger(pid) && pid > 0 ? pid : 'garbage';
}

/**
 * Without abstract sockets: a lock file beside the directory naming its process. The pid is
 * written to a file of this process's own, then hard-linked to the lock's name (link fails
 * when the name exists), so a lock file is never seen empty or half-written. A lock whose
 * process is gone is moved aside (of two processes clearing it, one moves it) and read again
 * before it is deleted; a live process's lock moved by mistake is put back. Three processes
 * racing over one stale lock can still both win there: that narrow case is why Linux uses the
 * socket.
 */
async function lockFile(dataDir: string): Promise<() => Promise<void>> {
  const file = `${dataDir}.lock`;
  const mine = `${file}.${process.pid}`;
  const aside = `${file}.stale.${process.pid}`;
  await writeFile(mine, String(process.pid));
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await link(mine, file);
        return async () => {
          if ((await holderOf(file).catch(() => 'gone')) === process.pid) await unlink(file).catch(() => undefined);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await holderOf(file);
      if (holder === 'gone') continue; // released meanwhile
      // This process already has it (a second open here is refused, as on Linux); a file naming
      // no pid (left half-written by an older version) is stale.
      if (holder !== 'garbage' && alive(holder)) throw busy(dataDir, holder);
      try {
        await rename(file, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another process cleared it
        throw err;
      }
      const moved = await holderOf(aside);
      if (typeof moved === 'number' && moved !== holder && alive(moved)) await link(aside, file).catch(() => undefined);
      await unlink(aside).catch(() => undefined);
    }
    throw busy(dataDir, null);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}
