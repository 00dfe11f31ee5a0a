/**
 * A complete relying party — a public service signing citizens in with Sésame — in one file,
 * on Node's http server and panva's `openid-client` v6: authorization code + PKCE S256, state
 * and nonce, the ID token checked (signature against the JWKS, iss, aud, nonce, exp), the acr
 * the service asked for checked, userinfo, RP-initiated logout. docs/integration.md walks
 * through it; test/integration/example-client.test.ts runs it against a real Sésame.
 *
 *   SESAME_ISSUER=https://sesame.example.gouv.fr CLIENT_ID=… CLIENT_SECRET=… \
 *   REDIRECT_URI=http://localhost:4000/callback POST_LOGOUT_REDIRECT_URI=http://localhost:4000/ \
 *   npm run example:rp
 *
 * What a real service adds: its own session store (here a Map in memory), HTTPS, and its
 * own pages. Keep `state`, `nonce` and the PKCE verifier server-side, bound to the browser.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';

export interface ExampleClientOptions {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Registered with `sesame clients create --post-logout-redirect-uri`; no logout link without it. */
  postLogoutRedirectUri?: string;
  scope: string;
  /** What the service needs, e.g. `eidas2` for a change of bank details. */
  acrValues: 'eidas1' | 'eidas2';
  port: number;
  host?: string;
  /** Only for an issuer on http://localhost (development and tests). */
  allowHttp?: boolean;
}

interface Pending {
  verifier: string;
  state: string;
  nonce: string;
}
interface SignedIn {
  idToken: string;
  /** Bound to this session: the logout form carries it (no logout by a link from another site). */
  csrf: string;
  claims: Record<string, unknown>;
  userinfo: Record<string, unknown>;
}

const LEVELS = ['eidas1', 'eidas2', 'eidas3'];
const escapeHtml = (v: unknown): string => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cookieOf = (req: IncomingMessage, name: string): string | undefined =>
  (req.headers.cookie ?? '')
    .split(';')
    .map((p) => p.trim().split('='))
    .find(([k]) => k === name)?.[1];

function page(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; form-action 'self'" });
  res.end(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Service d’exemple</title></head><body>${body}</body></html>`);
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 4096) break;
  }
  return body;
}

function redirect(res: ServerResponse, location: string, cookies: string[] = []): void {
  res.writeHead(303, { location, 'set-cookie': cookies, 'cache-control': 'no-store' });
  res.end();
}

export async function startExampleClient(o: ExampleClientOptions): Promise<{ url: string; close(): Promise<void> }> {
  const config = await oidc.discovery(o.issuer, o.clientId, { client_secret: o.clientSecret, id_token_signed_response_alg: 'ES256' }, oidc.ClientSecretBasic(o.clientSecret), {
    ...(o.allowHttp ? { execute: [oidc.allowInsecureRequests] } : {}),
  });
  // Checks the ID token's signature against Sésame's JWKS (openid-client otherwise trusts TLS).
  oidc.enableNonRepudiationChecks(config);
  const pending = new Map<string, Pending>();
  const sessions = new Map<string, SignedIn>();
  const secure = new URL(o.redirectUri).protocol === 'https:' ? '; Secure' : '';
  const cookie = (name: string, value: string, maxAge: number): string => `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', o.redirectUri);
    const logoutPost = req.method === 'POST' && url.pathname === '/logout';
    if (req.method !== 'GET' && !logoutPost) return page(res, 405, '<p>Méthode non permise.</p>');
    if (url.pathname === '/') {
      const signedIn = sessions.get(cookieOf(req, 'rp_session') ?? '');
      if (!signedIn) return page(res, 200, '<h1>Service d’exemple</h1><p><a id="login" href="/login">S’identifier avec Sésame</a></p>');
      const rows = Object.entries(signedIn.userinfo)
        .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td id="claim-${escapeHtml(k)}">${escapeHtml(v)}</td></tr>`)
        .join('');
      const logout = o.postLogoutRedirectUri
        ? `<form method="post" action="/logout"><input type="hidden" name="csrf" value="${escapeHtml(signedIn.csrf)}"><button id="logout" type="submit">Se déconnecter</button></form>`
        : '';
      return page(res, 200, `<h1>Bonjour ${escapeHtml(signedIn.userinfo.given_name ?? '')}</h1><p id="acr">${escapeHtml(signedIn.claims.acr)}</p><table>${rows}</table>${logout}`);
    }
    if (url.pathname === '/login') {
      const p: Pending = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
      const id = randomBytes(32).toString('base64url');
      pending.set(id, p);
      const target = oidc.buildAuthorizationUrl(config, {
        redirect_uri: o.redirectUri,
        scope: o.scope,
        acr_values: o.acrValues,
        code_challenge: await oidc.calculatePKCECodeChallenge(p.verifier),
        code_challenge_method: 'S256',
        state: p.state,
        nonce: p.nonce,
      });
      return redirect(res, target.href, [cookie('rp_pending', id, 600)]);
    }
    if (url.pathname === new URL(o.redirectUri).pathname) {
      const id = cookieOf(req, 'rp_pending') ?? '';
      const p = pending.get(id);
      pending.delete(id); // one use, whatever happens next
      if (!p) return page(res, 400, '<p>Aucune connexion en cours dans ce navigateur.</p>');
      if (url.searchParams.has('error')) return page(res, 200, `<p>Connexion non aboutie : <code id="error">${escapeHtml(url.searchParams.get('error'))}</code></p>`);
      const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: p.verifier, expectedState: p.state, expectedNonce: p.nonce, idTokenExpected: true });
      const claims = tokens.claims();
      if (!claims || !tokens.id_token) return page(res, 502, '<p>Réponse de Sésame incomplète.</p>');
      // The level is the service's to check: Sésame asserts what the session reached.
      if (LEVELS.indexOf(String(claims.acr)) < LEVELS.indexOf(o.acrValues)) return page(res, 403, '<p>Niveau d’authentification insuffisant.</p>');
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      const sid = randomBytes(32).toString('base64url');
      sessions.set(sid, { idToken: tokens.id_token, csrf: randomBytes(32).toString('base64url'), claims: { ...claims }, userinfo: { ...userinfo } });
      return redirect(res, '/', [cookie('rp_session', sid, 3600), cookie('rp_pending', '', 0)]);
    }
    if (logoutPost && o.postLogoutRedirectUri) {
      const sid = cookieOf(req, 'rp_session') ?? '';
      const signedIn = sessions.get(sid);
      const form = new URLSearchParams(await bodyOf(req));
      if (!signedIn || form.get('csrf') !== signedIn.csrf) return redirect(res, '/');
      sessions.delete(sid);
      // Ends the citizen's Sésame session too (they confirm on Sésame's page).
      const target = oidc.buildEndSessionUrl(config, { id_token_hint: signedIn.idToken, post_logout_redirect_uri: o.postLogoutRedirectUri, state: oidc.randomState() });
      return redirect(res, target.href, [cookie('rp_session', '', 0)]);
    }
    return page(res, 404, '<p>Page introuvable.</p>');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // openid-client's errors name what failed (state mismatch, bad signature…), never a token.
      console.error('example relying party:', err instanceof Error ? err.message : err);
      if (!res.headersSent) page(res, 502, '<p>La connexion avec Sésame a échoué.</p>');
    });
  });
  await new Promise<void>((resolve) => server.listen(o.port, o.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

if (import.meta.main) {
  const env = (name: string): string => {
    const v = process.env[name];
    if (!v) {
      console.error(`${name} is required (see the comment at the top of examples/relying-party.ts)`);
      process.exit(2);
    }
    return v;
  };
  const issuer = new URL(env('SESAME_ISSUER'));
  const redirect = new URL(env('REDIRECT_URI'));
  const started = await startExampleClient({
    issuer,
    clientId: env('CLIENT_ID'),
    clientSecret: env('CLIENT_SECRET'),
    redirectUri: env('REDIRECT_URI'),
    ...(process.env.POST_LOGOUT_REDIRECT_URI ? { postLogoutRedirectUri: process.env.POST_LOGOUT_REDIRECT_URI } : {}),
    scope: process.env.SCOPE ?? 'openid identite_pivot email',
    acrValues: process.env.ACR_VALUES === 'eidas2' ? 'eidas2' : 'eidas1',
    // The port of REDIRECT_URI unless PORT says otherwise (behind a proxy).
    port: Number(process.env.PORT || redirect.port || (redirect.protocol === 'https:' ? 443 : 80)),
    allowHttp: issuer.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(issuer.hostname),
  });
  // Its cookies belong to REDIRECT_URI's host: open the service there, not at the listening address.
  console.warn(`example relying party listening on ${started.url}; open ${redirect.origin}/`);
}
