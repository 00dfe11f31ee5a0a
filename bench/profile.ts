/**
 * Our server under --cpu-prof, one scenario's load for a few seconds, then the main thread's
 * self time by package and by function: `userinfo`, `cc` or `code` (the oidc scenario's
 * loads) or `login` (complete logins, 4 at a time, as in the login scenario; the Argon2id
 * hashes run on libuv's thread and are not in the profile).
 * `DATABASE_URL=… node bench/profile.ts login [dir]`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import autocannon from 'autocannon';
import { createPostgresDatabase } from '../test/support/databases.ts';
import { completeLogin } from './login-client.ts';
import { benchNir, BENCH_PASSWORD } from './login-server.ts';
import { authorizationCode, basicAuth, Browser, codeExchangeBody, discover, exchange, OIDC_BENCH_ACCOUNTS, type OidcBenchServer, type PreparedCode } from './oidc-client.ts';

const [what = 'userinfo', dir = `/tmp/sesame-${process.argv[2] ?? 'userinfo'}-profile`] = process.argv.slice(2);
const LOGIN_ACCOUNTS = 200;
const created = await createPostgresDatabase();
const serverArgs = what === 'login' ? ['bench/serve.ts', 'login', String(LOGIN_ACCOUNTS), created.url] : ['bench/oidc-serve.ts', 'sesame', created.url];
const child = spawn('taskset', ['-c', '0', process.execPath, '--cpu-prof', `--cpu-prof-dir=${dir}`, ...serverArgs], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, UV_THREADPOOL_SIZE: '1' } });
let out = '';
for await (const chunk of child.stdout) {
  out += String(chunk);
  if (out.includes('\n')) break;
}
const firstLine = out.slice(0, out.indexOf('\n'));
// Only the samples of the timed load count (not the server's start, the preparation or its
// stop), by time: V8's profile and process.hrtime both read the monotonic clock, in µs here.
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
const timed = { from: 0, to: 0 };
async function timing(load: () => Promise<unknown>): Promise<void> {
  timed.from = monotonicUs();
  await load();
  timed.to = monotonicUs();
}
try {
  if (what === 'login') {
    const url = firstLine.trim();
    const end = Date.now() + 8_000;
    let next = 0;
    await timing(() => Promise.all(Array.from({ length: 4 }, async () => {
      while (Date.now() < end) {
        const account = next++ % LOGIN_ACCOUNTS;
        await completeLogin(url, account, benchNir(account), BENCH_PASSWORD);
      }
    })));
    console.log(`${next} logins in 8 s`);
  } else await oidcLoad(JSON.parse(firstLine) as OidcBenchServer);
} finally {
  child.kill('SIGTERM');
  await once(child, 'exit');
  await created.drop();
}

async function oidcLoad(server: OidcBenchServer): Promise<void> {
  const endpoints = await discover(server.url);
  const accounts = Array.from({ length: OIDC_BENCH_ACCOUNTS }, (_, index) => ({ index, nir: benchNir(index), password: BENCH_PASSWORD }));
  const browsers = accounts.map(() => new Browser(server.url));
  const codes: PreparedCode[] = await Promise.all(accounts.map((a, i) => authorizationCode(browsers[i] as Browser, endpoints, server, a)));
  const tokens = await Promise.all(codes.map((c) => exchange(endpoints, server, c)));
  let turn = 0;
  if (what === 'userinfo') {
    await timing(() => autocannon({ url: endpoints.userinfo, connections: 10, duration: 8, requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[turn++ % tokens.length] ?? ''}` } }) }] }));
  } else if (what === 'cc') {
    await timing(() => autocannon({ url: endpoints.token, method: 'POST', connections: 10, duration: 8, headers: { authorization: basicAuth(server.machine.clientId, server.machine.secret), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' }));
  } else {
    const more: PreparedCode[] = [];
    await Promise.all(accounts.map(async (a, i) => { while (more.length < 2000) more.push(await authorizationCode(browsers[i] as Browser, endpoints, server, a)); }));
    let next = 0;
    await timing(() => autocannon({ url: endpoints.token, method: 'POST', connections: 10, amount: more.length, headers: { authorization: basicAuth(server.web.clientId, server.web.secret), 'content-type': 'application/x-www-form-urlencoded' }, requests: [{ setupRequest: (req) => ({ ...req, body: codeExchangeBody(more[Math.min(next++, more.length - 1)] as PreparedCode, server.web.redirectUri) }) }] }));
  }
}
type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
const file = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort().at(-1) as string;
const prof = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
if (prof.startTime > timed.from || prof.endTime < timed.to) throw new Error(`the profile (${prof.startTime}–${prof.endTime} µs) does not span the timed load (${timed.from}–${timed.to} µs): clocks differ`);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
let at = prof.startTime;
let idle = 0;
prof.samples.forEach((id, i) => {
  const delta = prof.timeDeltas[i] ?? 0;
  at += delta;
  if (at < timed.from || at > timed.to) return;
  if (byId.get(id)?.callFrame.functionName === '(idle)') idle += delta;
  else self.set(id, (self.get(id) ?? 0) + delta);
});
// Shares of the busy time (idle left out: on the login load, the hashes run while the main thread idles).
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log(`timed load ${((timed.to - timed.from) / 1000).toFixed(0)} ms, main thread busy ${(total / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms`);
const agg = new Map<string, number>();
const pkg = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id) as Node;
  const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*node_modules\//, 'nm/').replace(/^.*\/main\//, '')}:${n.callFrame.lineNumber}`;
  agg.set(key, (agg.get(key) ?? 0) + t);
  const p = n.callFrame.url.includes('node_modules/') ? (/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(n.callFrame.url)?.[1] ?? '?') : n.callFrame.url.startsWith('node:') ? n.callFrame.url : n.callFrame.url.includes('/main/src') ? 'src' : n.callFrame.url || n.callFrame.functionName;
  pkg.set(p, (pkg.get(p) ?? 0) + t);
}
for (const [k, t] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${((t / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
console.log('---');
for (const [k, t] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${((t / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
