/**
 * The `oidc` scenario: three figures per provider, our provider on PostgreSQL next to a bare
 * oidc-provider on its memory adapter (bench/oidc-serve.ts), measured in the same run:
 * - client credentials: `POST /token` (client_secret_basic) for a machine client, autocannon
 *   for the scenario's seconds;
 * - code exchange: `POST /token` with a code + PKCE verifier, codes prepared beforehand by
 *   real authorization requests (our login pages and consent once per browser, then SSO);
 *   every prepared code is exchanged, the rate is codes / time taken;
 * - userinfo: `GET /me` with bearer access tokens from such exchanges.
 * Each answer is checked (2xx only count), so a fast error is never a fast success.
 */
import autocannon from 'autocannon';
import { benchNir, BENCH_PASSWORD } from './login-server.ts';
import { authorizationCode, basicAuth, Browser, codeExchangeBody, discover, exchange, OIDC_BENCH_ACCOUNTS, type OidcBenchServer, type PreparedCode } from './oidc-client.ts';

export interface OidcFigure {
  rate: number;
  p50: number;
  p99: number;
  /** Server process CPU per request (ms), when measurable. */
  serverCpu: number | null;
  /** PostgreSQL backends' CPU per request (ms), when measurable. */
  databaseCpu: number | null;
  failed: number;
  /** Status codes of the failures, e.g. `401×3`. */
  failures: string;
}

export interface OidcFigures {
  clientCredentials: OidcFigure;
  codeExchange: OidcFigure & { prepared: number; prepareRate: number };
  userinfo: OidcFigure;
}

export interface OidcBenchOptions {
  seconds: number;
  /** Codes prepared before the timed exchange (fewer if preparing takes over 15 s: a code lives 30 s). */
  codes: number;
  connections: number;
  /**
   * Seconds of load before the client-credentials and userinfo figures. Both servers keep
   * getting faster for 8–12 s of load (JIT); a 1 s warm-up measured that ramp instead of the
   * steady state, ours (more code to compile) further from it than the bare provider.
   */
  warmup: number;
  /** CPU (ms) used so far by the server process and the database backends. */
  cpu(): { server: number; database: number } | null;
}

const failures = (r: autocannon.Result): string =>
  [...Object.entries(r.statusCodeStats ?? {}).filter(([code]) => !code.startsWith('2')).map(([code, v]) => `${code}×${v.count ?? 0}`), ...(r.errors ? [`errors×${r.errors}`] : [])].join(', ');

type Load = { url: string; method: 'GET' | 'POST'; headers: Record<string, string>; bodies?: string[]; seconds?: number; amount?: number };

async function hammer(load: Load, o: OidcBenchOptions): Promise<OidcFigure> {
  let next = 0;
  const bodies = load.bodies;
  const before = o.cpu();
  // With `amount`, autocannon ends on its next one-second tick: the time taken is measured
  // from the first request sent to the last answer received instead.
  let first = 0;
  let last = 0;
  const r = await autocannon({
    url: load.url,
    method: load.method,
    headers: load.headers,
    connections: o.connections,
    ...(load.amount === undefined ? { duration: load.seconds ?? o.seconds } : { amount: load.amount }),
    ...(bodies
      ? {
          requests: [
            {
              setupRequest: (req) => {
                first ||= performance.now();
                return { ...req, body: bodies[Math.min(next++, bodies.length - 1)] };
              },
              onResponse: () => void (last = performance.now()),
            },
          ],
        }
      : {}),
  });
  const elapsed = (last - first) / 1000;
  const after = o.cpu();
  const ok = r['2xx'];
  const perOk = (a: number, b: number): number | null => (ok > 0 ? (b - a) / ok : null);
  return {
    rate: ok / (load.amount === undefined ? r.duration : elapsed),
    p50: r.latency.p50,
    p99: r.latency.p99,
    serverCpu: before && after ? perOk(before.server, after.server) : null,
    databaseCpu: before && after && after.database > 0 ? perOk(before.database, after.database) : null,
    failed: r.non2xx + r.errors,
    failures: failures(r),
  };
}

/** Runs the three figures against a listening server (ours or the bare one). */
export async function oidcFigures(server: OidcBenchServer, o: OidcBenchOptions): Promise<OidcFigures> {
  const endpoints = await discover(server.url);
  const accounts = Array.from({ length: OIDC_BENCH_ACCOUNTS }, (_, index) => ({ index, nir: benchNir(index), password: BENCH_PASSWORD }));
  const browsers = accounts.map(() => new Browser(server.url));
  // Sign-in (login pages, consent) once per browser; its code warms the token endpoint up.
  const first = await Promise.all(accounts.map((a, i) => authorizationCode(browsers[i] as Browser, endpoints, server, a)));
  for (const c of first) await exchange(endpoints, server, c);

  const ccLoad: Load = {
    url: endpoints.token,
    method: 'POST',
    headers: { authorization: basicAuth(server.machine.clientId, server.machine.secret), 'content-type': 'application/x-www-form-urlencoded' },
    bodies: ['grant_type=client_credentials'],
  };
  await hammer({ ...ccLoad, seconds: o.warmup }, o); // warm-up (JIT, pool connections)
  const clientCredentials = await hammer(ccLoad, o);

  // Codes: the browsers, in parallel, one authorization request after another.
  const codes: PreparedCode[] = [];
  const prepStart = performance.now();
  const prepDeadline = prepStart + 15_000;
  await Promise.all(
    accounts.map(async (a, i) => {
      while (codes.length < o.codes && performance.now() < prepDeadline) codes.push(await authorizationCode(browsers[i] as Browser, endpoints, server, a));
    }),
  );
  const prepareRate = codes.length / ((performance.now() - prepStart) / 1000);
  // The freshest eight give userinfo its access tokens (they live 60 s), exchanged now.
  const tokens = await Promise.all(codes.splice(-OIDC_BENCH_ACCOUNTS).map((c) => exchange(endpoints, server, c)));
  const exchangeLoad = (some: PreparedCode[]): Load => ({
    url: endpoints.token,
    method: 'POST',
    headers: { authorization: basicAuth(server.web.clientId, server.web.secret), 'content-type': 'application/x-www-form-urlencoded' },
    bodies: some.map((c) => codeExchangeBody(c, server.web.redirectUri)),
    amount: some.length,
  });
  // A quarter of the codes warm the exchange's own path up (code lookup, consume, ID token), untimed.
  const warming = codes.splice(0, Math.floor(codes.length / 4));
  if (warming.length > 0) await hammer(exchangeLoad(warming), o);
  const codeExchange = await hammer(exchangeLoad(codes), o);

  let turn = 0;
  const userinfoRequest = { url: endpoints.userinfo, method: 'GET' as const, headers: {} };
  const bearer = (): Record<string, string> => ({ authorization: `Bearer ${tokens[turn++ % tokens.length] ?? ''}` });
  const userinfoLoad = async (seconds: number): Promise<OidcFigure> => {
    const before = o.cpu();
    const r = await autocannon({
      ...userinfoRequest,
      connections: o.connections,
      duration: seconds,
      requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...bearer() } }) }],
    });
    const after = o.cpu();
    const ok = r['2xx'];
    return {
      rate: ok / r.duration,
      p50: r.latency.p50,
      p99: r.latency.p99,
      serverCpu: before && after && ok > 0 ? (after.server - before.server) / ok : null,
      databaseCpu: before && after && after.database > 0 && ok > 0 ? (after.database - before.database) / ok : null,
      failed: r.non2xx + r.errors,
      failures: failures(r),
    };
  };
  await userinfoLoad(o.warmup); // warm-up
  const userinfo = await userinfoLoad(o.seconds);
  return { clientCredentials, codeExchange: { ...codeExchange, prepared: codes.length, prepareRate }, userinfo };
}
