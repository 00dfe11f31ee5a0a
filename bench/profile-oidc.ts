/**
 * BENCH_PROFILE for the `oidc` scenario: our server under --cpu-prof, one scenario's load
 * (`userinfo`, `cc` or `code`) for a few seconds, then the profile's self time by function.
 * `DATABASE_URL=… node bench/profile-oidc.ts userinfo [dir]`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import autocannon from 'autocannon';
import { createPostgresDatabase } from '../test/support/databases.ts';
import { benchNir, BENCH_PASSWORD } from './login-server.ts';
import { authorizationCode, basicAuth, Browser, codeExchangeBody, discover, exchange, OIDC_BENCH_ACCOUNTS, type OidcBenchServer, type PreparedCode } from './oidc-client.ts';

const [what = 'userinfo', dir = '/tmp/sesame-oidc-profile'] = process.argv.slice(2);
const created = await createPostgresDatabase();
const child = spawn('taskset', ['-c', '0', process.execPath, '--cpu-prof', `--cpu-prof-dir=${dir}`, 'bench/oidc-serve.ts', 'sesame', created.url], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
for await (const chunk of child.stdout) {
  out += String(chunk);
  if (out.includes('\n')) break;
}
const server = JSON.parse(out.slice(0, out.indexOf('\n'))) as OidcBenchServer;
try {
  const endpoints = await discover(server.url);
  const accounts = Array.from({ length: OIDC_BENCH_ACCOUNTS }, (_, index) => ({ index, nir: benchNir(index), password: BENCH_PASSWORD }));
  const browsers = accounts.map(() => new Browser(server.url));
  const codes: PreparedCode[] = await Promise.all(accounts.map((a, i) => authorizationCode(browsers[i] as Browser, endpoints, server, a)));
  const tokens = await Promise.all(codes.map((c) => exchange(endpoints, server, c)));
  let turn = 0;
  if (what === 'userinfo') {
    await autocannon({ url: endpoints.userinfo, connections: 10, duration: 8, requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[turn++ % tokens.length] ?? ''}` } }) }] });
  } else if (what === 'cc') {
    await autocannon({ url: endpoints.token, method: 'POST', connections: 10, duration: 8, headers: { authorization: basicAuth(server.machine.clientId, server.machine.secret), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
  } else {
    const more: PreparedCode[] = [];
    await Promise.all(accounts.map(async (a, i) => { while (more.length < 2000) more.push(await authorizationCode(browsers[i] as Browser, endpoints, server, a)); }));
    let next = 0;
    await autocannon({ url: endpoints.token, method: 'POST', connections: 10, amount: more.length, headers: { authorization: basicAuth(server.web.clientId, server.web.secret), 'content-type': 'application/x-www-form-urlencoded' }, requests: [{ setupRequest: (req) => ({ ...req, body: codeExchangeBody(more[Math.min(next++, more.length - 1)] as PreparedCode, server.web.redirectUri) }) }] });
  }
} finally {
  child.kill('SIGTERM');
  await once(child, 'exit');
  await created.drop();
}
type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
const file = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort().at(-1) as string;
const prof = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const agg = new Map<string, number>();
const pkg = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id) as Node;
  const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*node_modules\//, 'nm/').replace(/^.*\/main\//, '')}:${n.callFrame.lineNumber}`;
  agg.set(key, (agg.get(key) ?? 0) + t);
  const p = n.callFrame.url.includes('node_modules/') ? (/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(n.callFrame.url)?.[1] ?? '?') : n.callFrame.url.startsWith('node:') ? n.callFrame.url : n.callFrame.url.includes('/main/src') ? 'src' : n.callFrame.url || n.callFrame.functionName;
  pkg.set(p, (pkg.get(p) ?? 0) + t);
}
console.log(`total ${(total / 1000).toFixed(0)} ms`);
for (const [k, t] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${((t / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
console.log('---');
for (const [k, t] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${((t / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
