import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lockDataDir } from '../../src/db/data-dir-lock.ts';
import { openDatabase } from '../../src/db/open.ts';

/**
 * The embedded database's lock (src/db/data-dir-lock.ts): of several processes opening one
 * data directory at the same moment, exactly one gets it, the others are told it is in use and
 * by whom; a process that dies holding it, however it dies, leaves it free.
 */
let dir: string;
let child: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sesame-lock-'));
  child = path.join(dir, 'child.mjs');
  await writeFile(
    child,
    `import { lockDataDir } from ${JSON.stringify(new URL('../../src/db/data-dir-lock.ts', import.meta.url).href)};
const [data, startAt, holdMs] = process.argv.slice(2);
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
try {
  const release = await lockDataDir(data);
  process.stdout.write('got');
  await new Promise((r) => setTimeout(r, Number(holdMs)));
  await release();
} catch (err) {
  process.stdout.write(err.name === 'DataDirBusyError' ? 'busy' : 'error: ' + err.message);
}
`,
  );
});
after(() => rm(dir, { recursive: true, force: true }));

/** `n` processes asking for the lock at the same instant; each says got, busy or error. */
async function race(data: string, n: number): Promise<string[]> {
  // Far enough ahead that every process has started (Node's start-up, two cores) before it.
  const startAt = Date.now() + 2500;
  return Promise.all(
    Array.from({ length: n }, async () => {
      const p = spawn(process.execPath, [child, data, String(startAt), '2500'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      await new Promise((resolve) => p.on('close', resolve));
      return out;
    }),
  );
}

test('eight processes at once on a free directory: one gets it, seven are told it is in use', async () => {
  const outcomes = await race(path.join(dir, 'free'), 8);
  assert.equal(outcomes.filter((o) => o === 'got').length, 1, outcomes.join(', '));
  assert.equal(outcomes.filter((o) => o === 'busy').length, 7, outcomes.join(', '));
});

test('a holder killed outright (SIGKILL) leaves nothing taken: the next process gets it at once', async () => {
  const data = path.join(dir, 'killed');
  const holder = spawn(process.execPath, [child, data, String(Date.now()), '60000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  await assert.rejects(lockDataDir(data), new RegExp(`in use by process ${holder.pid}: stop the server first`));
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.on('close', resolve));
  const release = await lockDataDir(data);
  await release();
});

test('in one process: a second open of the same directory is refused too; released, it can be taken again', async () => {
  const data = path.join(dir, 'own');
  const release = await lockDataDir(data);
  await assert.rejects(lockDataDir(data), new RegExp(`in use by process ${process.pid}`));
  // The same directory written another way is the same lock.
  await assert.rejects(lockDataDir(path.join(dir, '.', 'own')), /in use/);
  await assert.rejects(lockDataDir(`${data}/.`), /in use/);
  await release();
  const again = await lockDataDir(data);
  await again();
});

test('a failed migration closes the database it opened: the directory is free again at once', async () => {
  const data = path.join(dir, 'bad-migration');
  const db = await openDatabase({ dataDir: data, migrate: true });
  await db.runAsOwner((q) => q.query(`UPDATE schema_migrations SET checksum = 'not the file''s checksum' WHERE version = 1`));
  await db.close();
  await assert.rejects(openDatabase({ dataDir: data, migrate: true }), /migration .* was changed after being applied/);
  const again = await openDatabase({ dataDir: data });
  await again.close();
});

test('many processes taking and releasing it for seconds, some dying while they hold it: never two holders at once', async () => {
  const data = path.join(dir, 'stress');
  const stress = path.join(dir, 'stress.mjs');
  // Each holder marks its turn with a file only one can create; a second holder would fail there.
  await writeFile(
    stress,
    `import { writeFile, unlink } from 'node:fs/promises';
import { lockDataDir } from ${JSON.stringify(new URL('../../src/db/data-dir-lock.ts', import.meta.url).href)};
const [data, until] = process.argv.slice(2);
let turns = 0;
while (Date.now() < Number(until)) {
  let release;
  try { release = await lockDataDir(data); } catch (err) { if (err.name !== 'DataDirBusyError') throw err; continue; }
  try { await writeFile(data + '.turn', '', { flag: 'wx' }); } catch { process.stdout.write('TWO HOLDERS'); process.exit(2); }
  turns++;
  await new Promise((r) => setImmediate(r));
  await unlink(data + '.turn');
  if (Math.random() < 0.2) { process.stdout.write('turns ' + turns); process.exit(0); } // dies holding it
  await release();
}
process.stdout.write('turns ' + turns);
`,
  );
  const until = Date.now() + 5000;
  let turns = 0;
  const outcomes: string[] = [];
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (Date.now() < until) {
        const p = spawn(process.execPath, [stress, data, String(until)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        p.stdout.on('data', (c: Buffer) => (out += c.toString()));
        const code = await new Promise((resolve) => p.on('close', resolve));
        outcomes.push(`${String(code)} ${out}`);
        turns += Number(/turns (\d+)/.exec(out)?.[1] ?? 0);
      }
    }),
  );
  assert.deepEqual(outcomes.filter((o) => !/^0 turns \d+$/.test(o)), [], 'every process exited cleanly, none saw a second holder');
  assert.ok(turns > 50, `the lock changed hands (${turns} turns)`);
});
