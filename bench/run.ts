/**
 * `npm run bench`: each scenario is printed next to a baseline measured in the same run,
 * so the ratio, not a noisy absolute figure, is what we compare across machines.
 *
 * Pinning (2 cores): servers run under `taskset -c 0`, this process (load generator and the
 * in-process loops) pins itself to core 1 when taskset exists, and so do the PostgreSQL
 * backends serving the login scenario's database. The in-process scenarios
 * (Argon2 loop, account creation) run with the same concurrency as their baseline.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import { hashPassword } from '../src/crypto/passwords.ts';
import { ManualClock } from '../src/clock.ts';
import { KeyRing } from '../src/crypto/keyring.ts';
import { openDatabase } from '../src/db/open.ts';
import { system } from '../src/db/contexts.ts';
import { createAccount } from '../src/accounts/accounts.ts';
import { setPasswordHash } from '../src/accounts/credentials.ts';
import { nirKey } from '../src/accounts/nir.ts';
import { createPostgresDatabase } from '../test/support/databases.ts';
import { completeLogin } from './login-client.ts';
import { BENCH_PASSWORD, benchNir } from './login-server.ts';
import { importBenchmark } from './import.ts';
import { oidcFigures, type OidcFigure, type OidcFigures } from './oidc.ts';
import type { OidcBenchServer } from './oidc-client.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 2;
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Figure {
  scenario: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number;
  extra?: string;
}
const figures: Figure[] = [];

async function loop(seconds: number, concurrency: number, op: (i: number) => Promise<void>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await op(next++);
        done++;
      }
    }),
  );
  return done / seconds;
}

async function argon2Baseline(): Promise<number> {
  return loop(SECONDS, CONCURRENCY, async (i) => void (await hashPassword(`baseline password ${i}`)));
}

async function accountCreation(databaseUrl: string | undefined): Promise<number> {
  const db = await openDatabase({ databaseUrl, migrate: true });
  const deps = { ring: KeyRing.generate('kek-bench'), clock: new ManualClock() };
  try {
    return await loop(SECONDS, CONCURRENCY, async (i) => {
      const body = `1${String(50 + (i % 50))}0175${String(i).padStart(6, '0').slice(-6)}`;
      const hash = await hashPassword(`a long bench password ${i}`);
      await system(db, 'bench', async (tx) => {
        const { id } = await createAccount(tx, deps, {
          identity: { nir: body + nirKey(body), givenNames: 'Bench', familyName: 'Mark', birthDate: '1950-01-01', birthPlace: null, gender: null },
          contact: { email: `bench${i}@example.org`, phone: null, postalAddress: null },
          status: 'active',
          via: 'cli',
        });
        await setPasswordHash(tx, deps.clock, id, hash);
      });
    });
  } finally {
    await db.close();
  }
}

/** CPU time (ms) a process has used so far, from /proc (0 where there is none). */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
  } catch {
    return 0;
  }
}

async function serve(kind: 'sesame' | 'bare' | 'login', extra: string[] = []): Promise<{ url: string; pid: number | undefined; stop(): Promise<void> }> {
  const args = ['bench/serve.ts', kind, ...extra];
  // One core, one hashing thread: four Argon2id computations time-sliced on one core evict
  // each other's 19 MiB from the caches (docs/operations.md, "Sizing").
  const child = hasTaskset ? spawn('taskset', ['-c', '0', process.execPath, ...args], { env: { ...process.env, UV_THREADPOOL_SIZE: '1' } }) : spawn(process.execPath, args);
  child.stderr.pipe(process.stderr);
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  return {
    url: chunk.toString().trim(),
    // Under taskset, the child execs node in place: same pid.
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function http(url: string): Promise<{ rps: number; p50: number; p99: number; bytes: number }> {
  const r = await autocannon({ url, connections: 10, duration: SECONDS });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bytes: r.throughput.average / Math.max(r.requests.average, 1) };
}

/**
 * PostgreSQL serves the bench database from backends that would otherwise float over both
 * cores and take the server's core from it: they are pinned with the load generator, checked
 * every 200 ms since the server's pool may open connections at any time. The CPU they used
 * before being seen is not counted (a few ms of a connection's start).
 */
async function pinBackends(databaseUrl: string): Promise<{ cpu(): number; stop(): Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const seen = new Map<number, number>(); // pid → CPU when first seen
  const last = new Map<number, number>();
  const poll = async (): Promise<void> => {
    const { rows } = await client.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    for (const { pid } of rows) {
      if (seen.has(pid)) continue;
      if (hasTaskset) execFileSync('taskset', ['-p', '-c', '1', String(pid)], { stdio: 'ignore' });
      seen.set(pid, cpuMs(pid));
    }
  };
  await poll();
  const timer = setInterval(() => void poll().catch(() => undefined), 200);
  return {
    cpu() {
      let sum = 0;
      for (const [pid, start] of seen) {
        const now = cpuMs(pid) || (last.get(pid) ?? start); // an exited backend keeps what it used
        last.set(pid, now);
        sum += now - start;
      }
      return sum;
    },
    async stop() {
      clearInterval(timer);
      await client.end();
    },
  };
}

/**
 * The local PostgreSQL server's own processes (postmaster, checkpointer, WAL writer…) would
 * float onto the server's core too, more so after a scenario that wrote a lot: pinned with the
 * load generator for the login scenario (new backends inherit it from the postmaster), released
 * after it (the in-process scenarios run on core 1 themselves and leave core 0 to PostgreSQL).
 */
function pinPostgresServer(databaseUrl: string | undefined): () => void {
  if (!hasTaskset || !databaseUrl || !['127.0.0.1', 'localhost', '[::1]'].includes(new URL(databaseUrl).hostname)) return () => undefined;
  let pids: string[] = [];
  try {
    pids = execFileSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return () => undefined;
  }
  const pin = (cores: string): void => {
    for (const pid of pids) {
      try {
        execFileSync('taskset', ['-a', '-p', '-c', cores, pid], { stdio: 'ignore' });
      } catch {
        // Not ours to pin (another user's server): the backends are still pinned one by one.
      }
    }
  };
  pin('1');
  return () => pin(`0-${cpus().length - 1}`);
}

const LOGIN_ACCOUNTS = 600;
const LOGIN_CONCURRENCY = Number(process.env.BENCH_LOGIN_CONCURRENCY ?? 4);

/** Complete logins per second with per-login latency, against a server on core 0. */
async function logins(databaseUrl: string | undefined): Promise<{ rate: number; p50: number; p99: number; serverCpu: number; databaseCpu: number }> {
  const server = await serve('login', databaseUrl ? [String(LOGIN_ACCOUNTS), databaseUrl] : [String(LOGIN_ACCOUNTS)]);
  const latencies: number[] = [];
  let backends: Awaited<ReturnType<typeof pinBackends>> | null = null;
  const releasePostgres = pinPostgresServer(databaseUrl);
  process.once('exit', releasePostgres);
  try {
    // Warm-up (JIT, pool connections), then the database's backends join the load generator.
    await Promise.all(Array.from({ length: LOGIN_CONCURRENCY }, (_, k) => completeLogin(server.url, LOGIN_ACCOUNTS - 1 - k, benchNir(LOGIN_ACCOUNTS - 1 - k), BENCH_PASSWORD)));
    backends = databaseUrl ? await pinBackends(databaseUrl) : null;
    const pinned = backends;
    const cpu = (): [number, number] => [cpuMs(server.pid), pinned?.cpu() ?? 0];
    const [server0, database0] = cpu();
    let count = 0;
    const rate = await loop(SECONDS, LOGIN_CONCURRENCY, async (i) => {
      count++;
      const account = 1 + (i % (LOGIN_ACCOUNTS - 1));
      const start = performance.now();
      await completeLogin(server.url, account, benchNir(account), BENCH_PASSWORD);
      latencies.push(performance.now() - start);
    });
    const [server1, database1] = cpu();
    latencies.sort((a, b) => a - b);
    const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    return { rate, p50: at(0.5), p99: at(0.99), serverCpu: (server1 - server0) / count, databaseCpu: (database1 - database0) / count };
  } finally {
    releasePostgres();
    await backends?.stop();
    await server.stop();
  }
}

const only = process.env.BENCH_ONLY?.split(',');
const wanted = (name: string): boolean => !only || only.includes(name);

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, ${hasTaskset ? 'servers on core 0, load on core 1' : 'unpinned (no taskset)'}`;
console.log(`Sésame benchmarks — ${machine}; ${SECONDS} s per figure\n`);

// The Argon2id loop is the baseline of the accounts and login scenarios only.
const argon = wanted('accounts') || wanted('login') ? await argon2Baseline() : 0;
if (argon) figures.push({ scenario: 'argon2id hashes (m=19 MiB, t=2, p=1), 2 at a time', value: argon, unit: '/s', baseline: '—', baselineValue: argon });

for (const [name, url] of wanted('accounts') ? ([['PGlite', undefined], ['PostgreSQL', process.env.DATABASE_URL ? 'pg' : null]] as const) : []) {
  if (url === null) {
    console.log(`account creation on PostgreSQL: skipped (DATABASE_URL not set)`);
    continue;
  }
  const created = url ? await createPostgresDatabase() : undefined;
  try {
    const rate = await accountCreation(created?.url);
    figures.push({ scenario: `account creation (hash + encrypt + insert + audit) on ${name}`, value: rate, unit: '/s', baseline: 'argon2id loop', baselineValue: argon });
  } finally {
    await created?.drop();
  }
}

for (const [name, url] of wanted('login') ? ([['PGlite', undefined], ['PostgreSQL', process.env.DATABASE_URL ? 'pg' : null]] as const) : []) {
  if (url === null) {
    console.log(`login on PostgreSQL: skipped (DATABASE_URL not set)`);
    continue;
  }
  const created = url ? await createPostgresDatabase() : undefined;
  try {
    // This machine's speed drifts by a third within a minute (shared host): the baseline is
    // measured right before and right after the scenario, and their mean is what it is compared to.
    const before = await argon2Baseline();
    const r = await logins(created?.url);
    const argonAround = (before + (await argon2Baseline())) / 2;
    figures.push({
      scenario: `login (GET form, NIR+password, send code, read it from the outbox, submit it, GET /account), ${LOGIN_CONCURRENCY} at a time, on ${name}`,
      value: r.rate,
      unit: '/s',
      baseline: 'argon2id loop just before and after',
      baselineValue: argonAround,
      extra: `p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms per complete login; CPU per login: server ${r.serverCpu.toFixed(0)} ms (one Argon2id ≈ ${(1000 / argonAround).toFixed(0)} ms of it)${url ? `, PostgreSQL backends ${r.databaseCpu.toFixed(0)} ms` : ''}`,
    });
  } finally {
    await created?.drop();
  }
}

// Agency import (bench/import.ts), next to its baselines measured in the same run.
for (const [name, url] of wanted('import') ? ([['PGlite', undefined], ['PostgreSQL', process.env.DATABASE_URL ?? null]] as const) : []) {
  if (url === null) {
    console.log(`import on PostgreSQL: skipped (DATABASE_URL not set)`);
    continue;
  }
  const f = await importBenchmark(url);
  const r = (v: number): string => `${Math.round(v)} rows/s`;
  figures.push({
    scenario: `import beneficiaries, ${f.rows} rows (validate, encrypt, blind indexes, insert, bank-details event) on ${name}`,
    value: f.importRate,
    unit: ' rows/s',
    baseline: 'bare unnest INSERT without crypto',
    baselineValue: f.bareInsertRate,
    extra: `validation + encryption alone ${r(f.cryptoRate)}; re-run (all unchanged) ${r(f.rerunRate)}; CPU per row: importer ${f.cpuPerRow.processUs.toFixed(0)} µs${f.cpuPerRow.databaseUs === null ? '' : `, PostgreSQL ${f.cpuPerRow.databaseUs.toFixed(0)} µs`}`,
  });
}

if (wanted('home')) {
  const sesame = await serve('sesame');
  const homeSize = (await (await fetch(`${sesame.url}/`)).text()).length;
  const home = await http(`${sesame.url}/`);
  await sesame.stop();
  const bare = await serve('bare', [String(homeSize)]);
  const bareHome = await http(`${bare.url}/`);
  await bare.stop();
  figures.push({
    scenario: 'GET / (home page: headers, CSP, i18n, layout, metrics)',
    value: home.rps,
    unit: 'req/s',
    baseline: 'bare Fastify, same page size',
    baselineValue: bareHome.rps,
    extra: `p50 ${home.p50} ms, p99 ${home.p99} ms (baseline p50 ${bareHome.p50} ms, p99 ${bareHome.p99} ms)`,
  });
}

/** An OIDC bench server (bench/oidc-serve.ts) on core 0; its first line says where it listens and its clients. */
async function serveOidc(kind: 'sesame' | 'bare', databaseUrl?: string): Promise<{ server: OidcBenchServer; pid: number | undefined; stop(): Promise<void> }> {
  const args = ['bench/oidc-serve.ts', kind, ...(databaseUrl ? [databaseUrl] : [])];
  const child = hasTaskset ? spawn('taskset', ['-c', '0', process.execPath, ...args], { env: { ...process.env, UV_THREADPOOL_SIZE: '1' } }) : spawn(process.execPath, args);
  child.stderr.pipe(process.stderr);
  let out = '';
  while (!out.includes('\n')) {
    const [chunk] = (await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => [null])])) as [Buffer | null];
    if (!chunk) throw new Error(`oidc bench server (${kind}) exited before listening`);
    out += chunk.toString();
  }
  return {
    server: JSON.parse(out.slice(0, out.indexOf('\n'))) as OidcBenchServer,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

const OIDC_CODES = Number(process.env.BENCH_OIDC_CODES ?? 3000);
const OIDC_CONNECTIONS = Number(process.env.BENCH_OIDC_CONNECTIONS ?? 10);
const OIDC_WARMUP = Number(process.env.BENCH_OIDC_WARMUP ?? 10);

/** The bare provider, then ours on PostgreSQL, then the bare one again: ours is compared to the mean of the two. */
async function oidcScenario(databaseUrl: string): Promise<{ ours: OidcFigures; bare: OidcFigures[] }> {
  const options = { seconds: SECONDS, codes: OIDC_CODES, connections: OIDC_CONNECTIONS, warmup: OIDC_WARMUP };
  const bareRun = async (): Promise<OidcFigures> => {
    const s = await serveOidc('bare');
    try {
      return await oidcFigures(s.server, { ...options, cpu: () => ({ server: cpuMs(s.pid), database: 0 }) });
    } finally {
      await s.stop();
    }
  };
  const bare = [await bareRun()];
  const releasePostgres = pinPostgresServer(databaseUrl);
  process.once('exit', releasePostgres);
  let ours: OidcFigures;
  const s = await serveOidc('sesame', databaseUrl);
  const backends = await pinBackends(databaseUrl);
  try {
    ours = await oidcFigures(s.server, { ...options, cpu: () => ({ server: cpuMs(s.pid), database: backends.cpu() }) });
  } finally {
    await backends.stop();
    await s.stop();
    releasePostgres();
  }
  bare.push(await bareRun());
  return { ours, bare };
}

if (wanted('oidc')) {
  const url = process.env.DATABASE_URL;
  if (!url) console.log('oidc on PostgreSQL: skipped (DATABASE_URL not set)');
  else {
    const created = await createPostgresDatabase();
    try {
      const { ours, bare } = await oidcScenario(created.url);
      const mean = (pick: (f: OidcFigures) => OidcFigure): number => bare.reduce((sum, f) => sum + pick(f).rate, 0) / bare.length;
      const cpu = (f: OidcFigure): string =>
        `${f.serverCpu === null ? '' : `server CPU ${f.serverCpu.toFixed(2)} ms`}${f.databaseCpu === null ? '' : `, PostgreSQL ${f.databaseCpu.toFixed(2)} ms`} per request`;
      const describe = (pick: (f: OidcFigures) => OidcFigure): string => {
        const f = pick(ours);
        const b = bare.map(pick);
        // On a loaded machine the rates follow its other load; the servers' CPU per request is steadier.
        const bareCpu = b.reduce((sum, x) => sum + (x.serverCpu ?? 0), 0) / b.length;
        const cpuRatio = f.serverCpu ? ` (bare/ours server CPU per request: ${((bareCpu / f.serverCpu) * 100).toFixed(0)}%)` : '';
        return `p50 ${f.p50} ms, p99 ${f.p99} ms; ${cpu(f)}${f.failed ? `; ${f.failed} FAILED: ${f.failures}` : ''}; bare runs ${b.map((x) => x.rate.toFixed(0)).join(' and ')}/s, server CPU ${b.map((x) => (x.serverCpu ?? 0).toFixed(2)).join(' and ')} ms${cpuRatio}${b.some((x) => x.failed) ? `; bare FAILURES: ${b.map((x) => x.failures).join(' / ')}` : ''}`;
      };
      const bareName = 'bare oidc-provider, memory adapter, before and after';
      figures.push(
        { scenario: `OIDC client-credentials grant (client_secret_basic; after ${OIDC_WARMUP} s of warm-up) on PostgreSQL`, value: ours.clientCredentials.rate, unit: '/s', baseline: bareName, baselineValue: mean((f) => f.clientCredentials), extra: describe((f) => f.clientCredentials) },
        {
          scenario: `OIDC authorization-code exchange (PKCE S256, ES256 ID token; ${ours.codeExchange.prepared} codes timed after a third as many untimed, all prepared beforehand at ${ours.codeExchange.prepareRate.toFixed(0)}/s) on PostgreSQL`,
          value: ours.codeExchange.rate,
          unit: '/s',
          baseline: bareName,
          baselineValue: mean((f) => f.codeExchange),
          extra: describe((f) => f.codeExchange),
        },
        { scenario: `OIDC userinfo (bearer token, identite_pivot + email; after ${OIDC_WARMUP} s of warm-up) on PostgreSQL`, value: ours.userinfo.rate, unit: '/s', baseline: bareName, baselineValue: mean((f) => f.userinfo), extra: describe((f) => f.userinfo) },
      );
    } finally {
      await created.drop();
    }
  }
}

const rows = figures.map((f) => {
  const ratio = f.baseline === '—' ? '' : ` = ${((f.value / f.baselineValue) * 100).toFixed(0)}% of ${f.baseline} (${f.baselineValue.toFixed(1)}${f.unit})`;
  return `${f.scenario}: ${f.value.toFixed(1)}${f.unit}${ratio}${f.extra ? `; ${f.extra}` : ''}`;
});
console.log(rows.join('\n'));
await mkdir('bench/results', { recursive: true });
const stamp = new Date().toISOString().slice(0, 10);
await writeFile(`bench/results/${stamp}${only ? `-${only.join('-')}` : ''}.md`, `# Benchmarks, ${stamp}\n\n${machine}; ${SECONDS} s per figure.\n\n${rows.map((r) => `- ${r}`).join('\n')}\n`);
