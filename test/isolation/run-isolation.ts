import { systemClock } from '../../src/clock.ts';
import { cpuSeconds, startCluster } from './cluster.ts';
import { LeakDetector, type Leak } from './leaks.ts';
import { citizenLoop, logIn, newActor, type Actor, type RunContext } from './scenario.ts';
import { seedCitizens } from './seed.ts';
import { RunStats } from './stats.ts';
import { procedureOwners, tripwireState, verifyFiles } from './verify.ts';

/**
 * The concurrency isolation run: N citizens on P real server processes sharing one
 * PostgreSQL database, all logged in for real and clicking through "My Account" at once for
 * a while; then every citizen's file is checked against what they did. Used by
 * `npm run test:isolation` (run.ts) and, shorter, by concurrency.test.ts in `npm test`.
 */

export interface IsolationOptions {
  citizens: number;
  processes: number;
  durationMs: number;
  /** Logins at once (each waits for its mailed code). */
  loginConcurrency?: number;
  log?: (line: string) => void;
}

export interface IsolationReport {
  citizens: number;
  processes: number;
  /** How long the mixed load actually ran. */
  loadMs: number;
  seedMs: number;
  loginMs: number;
  stats: RunStats;
  /** Requests during the load phase only (logins excluded). */
  loadRequests: number;
  leaks: Leak[];
  unknownIbans: number;
  fileProblems: string[];
  fileEvents: number;
  uncertainChanges: number;
  tripwire: { violations: number; auditEvents: number; accessOpen: boolean | null };
  serverErrorLines: number[];
  serverTails: string[][];
  /** CPU seconds during the load phase: each server process, and this (load-generating, checking) process. */
  cpu: { servers: (number | null)[]; tester: number };
  /** This process's peak resident memory, MiB. */
  maxRssMiB: number;
}

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

export async function runIsolation(o: IsolationOptions): Promise<IsolationReport> {
  const log = o.log ?? (() => undefined);
  const cluster = await startCluster({ processes: o.processes });
  try {
    log(`${o.processes} server processes ready: ${cluster.bases.join(' ')}`);
    let t0 = performance.now();
    const seeded = await seedCitizens({ db: cluster.db, ring: cluster.ring, clock: systemClock, argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } }, o.citizens);
    const seedMs = performance.now() - t0;
    log(`${seeded.length} citizens seeded in ${Math.round(seedMs)} ms`);

    const stats = new RunStats(o.processes);
    const leaks = new LeakDetector(seeded);
    const ctx: RunContext = { bases: cluster.bases, inbox: cluster.inbox, leaks, stats, today: systemClock.now().toISOString().slice(0, 10) };
    const actors: Actor[] = seeded.map(newActor);

    t0 = performance.now();
    await inBatches(actors, o.loginConcurrency ?? 50, async (a) => {
      try {
        await logIn(ctx, a);
      } catch (err) {
        stats.problem({ route: 'login', server: -1, what: (err as Error).message }, 'login failed');
      }
    });
    const loginMs = performance.now() - t0;
    const loggedIn = actors.filter((a) => a.loggedIn);
    log(`${loggedIn.length} citizens logged in (password + mailed code) in ${Math.round(loginMs)} ms`);

    const before = stats.requests;
    const serverCpuBefore = await Promise.all(cluster.servers.map(cpuSeconds));
    const testerCpuBefore = process.cpuUsage();
    t0 = performance.now();
    const deadline = Date.now() + o.durationMs;
    await Promise.all(loggedIn.map((a) => citizenLoop(ctx, a, deadline)));
    const loadMs = performance.now() - t0;
    const loadRequests = stats.requests - before;
    const serverCpuAfter = await Promise.all(cluster.servers.map(cpuSeconds));
    const testerCpu = process.cpuUsage(testerCpuBefore);
    const cpu = {
      servers: serverCpuAfter.map((after, i) => (after === null || serverCpuBefore[i] == null ? null : after - (serverCpuBefore[i] ?? 0))),
      tester: (testerCpu.user + testerCpu.system) / 1e6,
    };
    log(`load: ${loadRequests} requests in ${Math.round(loadMs)} ms`);

    const files = await verifyFiles(cluster.db, cluster.ring, actors);
    leaks.settle(await procedureOwners(cluster.db, actors));
    const tripwire = await tripwireState(cluster.db);
    return {
      citizens: loggedIn.length,
      processes: o.processes,
      loadMs,
      seedMs,
      loginMs,
      stats,
      loadRequests,
      leaks: leaks.leaks,
      unknownIbans: leaks.unknownIbans,
      fileProblems: files.problems,
      fileEvents: files.events,
      uncertainChanges: actors.reduce((s, a) => s + a.uncertain, 0),
      tripwire,
      serverErrorLines: cluster.servers.map((s) => s.errorLines),
      serverTails: cluster.servers.map((s) => s.tail()),
      cpu,
      maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await cluster.close();
  }
}

/** What makes the run fail (empty: it passed). */
export function failures(r: IsolationReport, o: { citizens: number; processes: number }): string[] {
  const out: string[] = [];
  if (r.citizens < o.citizens) out.push(`only ${r.citizens} of ${o.citizens} citizens logged in`);
  if (r.leaks.length > 0) out.push(`${r.leaks.length} responses carried another citizen's data: ${r.leaks.slice(0, 5).map((l) => `${l.kind} of ${l.owner} to ${l.receiver} on ${l.route}`).join('; ')}`);
  if (r.fileProblems.length > 0) out.push(`${r.fileProblems.length} file problems: ${r.fileProblems.slice(0, 5).join('; ')}`);
  if (r.tripwire.violations > 0 || r.tripwire.auditEvents > 0) out.push(`isolation violations recorded: ${r.tripwire.violations} (audit events: ${r.tripwire.auditEvents})`);
  if (r.tripwire.accessOpen === false) out.push('citizen access was closed');
  if (r.stats.problemCount > 0) {
    out.push(`${r.stats.problemCount} unexpected answers (${[...r.stats.problemKinds].map(([k, n]) => `${k}: ${n}`).join(', ')}); first: ${r.stats.problems.slice(0, 5).map((p) => `${p.route} [server ${p.server}] ${p.what}`).join(' | ')}`);
  }
  const errorLines = r.serverErrorLines.reduce((s, n) => s + n, 0);
  if (errorLines > 0) out.push(`${errorLines} error-level log lines from the servers; last lines:\n${r.serverTails.flat().filter((l) => /"level":(5\d|60)\b/.test(l)).slice(-5).join('\n')}`);
  return out;
}

/** The short summary printed after a run. */
export function summary(r: IsolationReport): string {
  const s = r.stats;
  const rps = r.loadRequests / (r.loadMs / 1000);
  const routes = [...s.perRoute].sort((a, b) => b[1] - a[1]).map(([route, n]) => `  ${String(n).padStart(7)}  ${route}`);
  return [
    `isolation run: ${r.citizens} citizens, ${r.processes} server processes, one PostgreSQL database`,
    `  seed ${Math.round(r.seedMs)} ms, logins ${Math.round(r.loginMs)} ms, load ${(r.loadMs / 1000).toFixed(1)} s`,
    `  load: ${r.loadRequests} requests, ${rps.toFixed(0)} requests/s; latency p50 ${s.percentile(0.5)} ms, p95 ${s.percentile(0.95)} ms, max ${Math.round(s.maxMs)} ms`,
    `  per server: ${s.perServer.join(' / ')} requests; CPU during the load: servers ${r.cpu.servers.map((c) => (c === null ? '?' : `${c.toFixed(1)} s`)).join(' / ')}, this process ${r.cpu.tester.toFixed(1)} s; peak memory of this process ${r.maxRssMiB} MiB`,
    `  requests per route (logins included):`,
    ...routes,
    `  changes checked in the files: ${r.fileEvents} events${r.uncertainChanges > 0 ? ` (${r.uncertainChanges} changes with a lost answer)` : ''}`,
    `  unexpected answers: ${s.problemCount}${s.problemCount > 0 ? ` (${[...s.problemKinds].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''}`,
    `  leaks: ${r.leaks.length}; file problems: ${r.fileProblems.length}; isolation violations: ${r.tripwire.violations}; access open: ${r.tripwire.accessOpen}`,
    `  server error-level log lines: ${r.serverErrorLines.join(' / ')}${r.unknownIbans > 0 ? `; IBAN-like strings of no test citizen: ${r.unknownIbans}` : ''}`,
  ].join('\n');
}
