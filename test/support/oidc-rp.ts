import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { systemClock } from '../../src/clock.ts';
import { system } from '../../src/db/contexts.ts';
import { createClient } from '../../src/oidc/clients.ts';
import type { ClientInput } from '../../src/oidc/client-policy.ts';
import { csrfTokenIn, testApp, type TestApp } from './app.ts';
import type { TestDatabase } from './databases.ts';
import { freePort } from './free-port.ts';
import { lastCode, type Citizen } from './login.ts';

/** The app listening on 127.0.0.1 with its public URL (the issuer) set to that address. */
export async function listeningApp(tdb: TestDatabase, env: Record<string, string> = {}): Promise<{ t: TestApp; base: string }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t = await testApp({ db: tdb.db, env: { SESAME_PUBLIC_URL: base, PORT: String(port), ...env } });
  // The provider reads Date: our sessions' auth_time must be on the same time line.
  t.clock.set(new Date());
  await t.app.listen({ port, host: '127.0.0.1' });
  return { t, base };
}

/** A registered service and the openid-client configuration it would use against the issuer. */
export interface RelyingParty {
  clientId: string;
  redirectUri: string;
  config: oidc.Configuration;
}

export async function relyingParty(t: TestApp, base: string, input: Omit<ClientInput, 'redirectUris'> & { redirectUri: string }): Promise<RelyingParty> {
  const { redirectUri, ...rest } = input;
  const created = await system(t.deps.db, 'test', (tx) => createClient(tx, t.deps.ring, systemClock, { ...rest, redirectUris: [redirectUri] }, 'operator:test'));
  const secret = created.secret ?? '';
  const config = await oidc.discovery(new URL(base), created.client.clientId, { client_secret: secret, id_token_signed_response_alg: 'ES256' }, oidc.ClientSecretBasic(secret), {
    execute: [oidc.allowInsecureRequests],
  });
  // Checks the ID token's signature against the provider's JWKS too.
  oidc.enableNonRepudiationChecks(config);
  return { clientId: created.client.clientId, redirectUri, config };
}

/** A browser over HTTP: cookies kept (whatever their attributes), the last HTML page kept for its CSRF token. */
export class HttpBrowser {
  readonly base: string;
  readonly jar = new Map<string, string>();
  lastPage = '';

  constructor(base: string) {
    this.base = base;
  }

  async request(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(new URL(url, this.base), {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', ...(cookie ? { cookie } : {}), ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = c.split(';');
      const i = pair.indexOf('=');
      if (i <= 0) continue;
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = value === '' || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') <= Date.now()));
      if (expired) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    if (res.headers.get('content-type')?.startsWith('text/html')) this.lastPage = await res.clone().text();
    return res;
  }

  get(url: string): Promise<Response> {
    return this.request(url);
  }

  post(url: string, fields: Record<string, string>): Promise<Response> {
    const body = new URLSearchParams({ _csrf: csrfTokenIn(this.lastPage), ...fields }).toString();
    return this.request(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }
}

const location = (res: Response, base: string): URL => {
  const value = res.headers.get('location');
  assert.ok(value, `no location (${res.status})`);
  return new URL(value, base);
};

/** Our login pages: NIR + password, the code mailed (read from the outbox), the code. Returns the last answer. */
export async function logInThroughPages(b: HttpBrowser, t: TestApp, c: Citizen, loginPage = '/login'): Promise<Response> {
  t.clock.advance(1000);
  await b.get(loginPage);
  const first = await b.post('/login', { method: 'password', nir: c.nir, password: c.password });
  assert.equal(first.status, 303, 'password refused');
  const flow = location(first, b.base).pathname;
  await b.get(flow);
  assert.equal((await b.post(`${flow}/send`, { method: 'email-code' })).status, 303);
  await b.get(flow);
  const done = await b.post(flow, { method: 'email-code', code: await lastCode(t, c.accountId) });
  assert.equal(done.status, 303, 'code refused');
  return done;
}

export interface AuthorizationAttempt {
  /** Where the browser ended: the service's redirect_uri (with code or error), or a page of ours it stopped at. */
  end: URL;
  verifier: string;
  state: string;
  nonce: string;
  /** The consent pages shown on the way, and their Content-Security-Policy. */
  consentPages: string[];
  consentCsp: string[];
}

/**
 * The front channel, as a browser goes through it: the authorization request built by
 * openid-client (code + PKCE S256, state, nonce), our login pages when asked, the consent page
 * accepted, until the redirect to the service — or until `stopAt` matches a page of ours.
 */
export async function authorize(
  b: HttpBrowser,
  t: TestApp,
  rp: RelyingParty,
  c: Citizen,
  o: { scope: string; params?: Record<string, string>; stopAt?: RegExp },
): Promise<AuthorizationAttempt> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope: o.scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...o.params,
  });
  const followed = await follow(b, t, rp, c, await b.get(url.href), o.stopAt);
  return { ...followed, verifier, state, nonce };
}

/** Follows the browser from `res`: our login pages when asked, consent accepted, until the service (or `stopAt`). */
export async function follow(b: HttpBrowser, t: TestApp, rp: RelyingParty, c: Citizen, res: Response, stopAt?: RegExp): Promise<{ end: URL; consentPages: string[]; consentCsp: string[] }> {
  const consentPages: string[] = [];
  const consentCsp: string[] = [];
  for (let hops = 0; hops < 20; hops++) {
    if (res.status === 303 || res.status === 302) {
      const next = location(res, b.base);
      if (next.href.startsWith(rp.redirectUri) || stopAt?.test(next.pathname)) return { end: next, consentPages, consentCsp };
      res = next.pathname === '/login' && next.origin === b.base ? await logInThroughPages(b, t, c, `${next.pathname}${next.search}`) : await b.get(next.href);
      continue;
    }
    // The page a login or step-up ends on when it goes back to an interaction (src/oidc/back-to-service.ts): a browser follows its meta refresh.
    const back = res.status === 200 ? /<meta http-equiv="refresh" content="0;url=([^"]+)">/.exec(b.lastPage)?.[1] : undefined;
    if (back) {
      res = await b.get(back);
      continue;
    }
    const action = /<form method="post" action="([^"]+\/consent)">/.exec(b.lastPage)?.[1];
    assert.ok(res.status === 200 && action, `unexpected answer ${res.status}: ${b.lastPage.slice(0, 500).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')}`);
    consentPages.push(b.lastPage);
    consentCsp.push(res.headers.get('content-security-policy') ?? '');
    res = await b.post(action, {});
  }
  throw new Error('too many redirects');
}
