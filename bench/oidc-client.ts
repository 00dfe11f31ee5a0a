/**
 * The relying party's side of the `oidc` scenario, as a service's server does it (bare HTTP,
 * no library, so that the load generator stays cheap): a browser signs in once per bench
 * account through the front channel (our login pages and consent page; the bare provider's
 * instant interaction), then authorization codes are prepared by further authorization
 * requests of the same browsers (SSO, consent remembered), before any timed part.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

export const OIDC_BENCH_ACCOUNTS = 8;
/** Never contacted: the load generator reads the code from the Location header. */
export const OIDC_BENCH_REDIRECT = 'http://127.0.0.1:9/callback';
export const OIDC_BENCH_SCOPE = 'openid identite_pivot email';

export interface OidcBenchServer {
  url: string;
  web: { clientId: string; secret: string; redirectUri: string };
  machine: { clientId: string; secret: string };
}

export interface Endpoints {
  authorization: string;
  token: string;
  userinfo: string;
}

export async function discover(url: string): Promise<Endpoints> {
  const d = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as Record<string, string>;
  const { authorization_endpoint: authorization, token_endpoint: token, userinfo_endpoint: userinfo } = d;
  assert.ok(authorization && token && userinfo, 'discovery without the endpoints');
  return { authorization, token, userinfo };
}

export const basicAuth = (clientId: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** A browser: its cookies (attributes ignored), its last page (for CSRF tokens). */
export class Browser {
  readonly #cookies = new Map<string, string>();
  readonly base: string;
  lastPage = '';
  constructor(base: string) {
    this.base = base;
  }
  async request(url: string | URL, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const res = await fetch(new URL(url, this.base), {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
        cookie: [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line)) this.#cookies.delete(pair.slice(0, eq));
      else this.#cookies.set(pair.slice(0, eq), value);
    }
    this.lastPage = res.headers.get('content-type')?.startsWith('text/html') ? await res.text() : (await res.arrayBuffer(), '');
    return res;
  }
  csrf(): string {
    const token = /name="_csrf" value="([^"]+)"/.exec(this.lastPage)?.[1];
    assert.ok(token, 'no CSRF token on the page');
    return token;
  }
}

/** Our login pages: NIR + password, the code mailed (read through the bench route), the code. */
async function logIn(b: Browser, form: URL, account: { index: number; nir: string; password: string }): Promise<Response> {
  await b.request(form);
  const first = await b.request(form.pathname, { form: { _csrf: b.csrf(), method: 'password', nir: account.nir, password: account.password } });
  assert.equal(first.status, 303, `password refused (${first.status})`);
  const flow = first.headers.get('location') ?? '';
  await b.request(flow);
  assert.equal((await b.request(`${flow}/send`, { form: { _csrf: b.csrf(), method: 'email-code' } })).status, 303, 'send refused');
  await b.request(flow);
  const csrf = b.csrf();
  const { code } = (await (await fetch(`${b.base}/__bench/code?i=${account.index}`)).json()) as { code: string | null };
  assert.ok(code, 'no code in the outbox');
  const done = await b.request(flow, { form: { _csrf: csrf, method: 'email-code', code } });
  assert.equal(done.status, 303, `code refused (${done.status})`);
  return done;
}

export interface PreparedCode {
  code: string;
  verifier: string;
}

/**
 * One authorization request (code + PKCE S256, state, nonce) followed to the service's
 * redirect_uri: through our login pages and consent page the first time, straight back with
 * a code once the browser has a session and the consent is remembered.
 */
export async function authorizationCode(
  b: Browser,
  endpoints: Endpoints,
  server: OidcBenchServer,
  account: { index: number; nir: string; password: string },
): Promise<PreparedCode> {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const url = new URL(endpoints.authorization);
  for (const [k, v] of Object.entries({
    client_id: server.web.clientId,
    redirect_uri: server.web.redirectUri,
    response_type: 'code',
    scope: OIDC_BENCH_SCOPE,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    nonce: randomBytes(16).toString('base64url'),
  })) {
    url.searchParams.set(k, v);
  }
  let res = await b.request(url);
  for (let hops = 0; hops < 30; hops++) {
    if (res.status === 302 || res.status === 303) {
      const next = new URL(res.headers.get('location') ?? '', b.base);
      if (next.href.startsWith(server.web.redirectUri)) {
        const code = next.searchParams.get('code');
        assert.ok(code && next.searchParams.get('state') === state, `no code: ${next.searchParams.get('error') ?? '?'}`);
        return { code, verifier };
      }
      res = next.pathname === '/login' && next.origin === b.base ? await logIn(b, next, account) : await b.request(next);
      continue;
    }
    // The "back to the service" page after a login form (a meta refresh, CSP form-action).
    const refresh = /<meta http-equiv="refresh" content="0;url=([^"]+)">/.exec(b.lastPage)?.[1];
    if (res.status === 200 && refresh) {
      res = await b.request(refresh.replaceAll('&amp;', '&'));
      continue;
    }
    const action = /<form method="post" action="([^"]+\/consent)">/.exec(b.lastPage)?.[1];
    assert.ok(res.status === 200 && action, `unexpected answer ${res.status} on the way to a code`);
    res = await b.request(action, { form: { _csrf: b.csrf() } });
  }
  throw new Error('too many redirects');
}

/** The token request of a code, as the service's server sends it (client_secret_basic). */
export function codeExchangeBody(c: PreparedCode, redirectUri: string): string {
  return new URLSearchParams({ grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: redirectUri }).toString();
}

/** Exchanges one code, returning the access token (for userinfo). */
export async function exchange(endpoints: Endpoints, server: OidcBenchServer, c: PreparedCode): Promise<string> {
  const res = await fetch(endpoints.token, {
    method: 'POST',
    headers: { authorization: basicAuth(server.web.clientId, server.web.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: codeExchangeBody(c, server.web.redirectUri),
  });
  const body = (await res.json()) as { access_token?: string; id_token?: string; error?: string };
  assert.ok(res.status === 200 && body.access_token && body.id_token, `code exchange failed: ${res.status} ${body.error ?? ''}`);
  return body.access_token;
}
