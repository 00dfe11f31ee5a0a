/**
 * The servers of the `oidc` scenario, each in its own process (pinned to core 0 by bench/run.ts):
 * - `sesame <databaseUrl>`: the real app (our provider, its PostgreSQL adapter, the client
 *   registry, our login pages as interactions) with bench accounts, a web client and a
 *   machine client, and the bench-only route that reads a login code from the outbox;
 * - `bare`: panva's oidc-provider alone, its memory adapter, the same two clients (same
 *   client authentication, same ES256 ID tokens, pairwise subjects, same lifetimes), and an
 *   interaction that logs in and consents at once, with fixed claims.
 * Prints one JSON line: `{ url, web: { clientId, secret, redirectUri }, machine: { clientId, secret } }`.
 */
import { createServer } from 'node:http';
import Provider, { type Adapter, type Configuration } from 'oidc-provider';
import type { AppDeps } from '../src/app-deps.ts';
import { buildApp } from '../src/app.ts';
import { systemClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { KeyRing } from '../src/crypto/keyring.ts';
import { system } from '../src/db/contexts.ts';
import { openDatabase } from '../src/db/open.ts';
import { createLogger } from '../src/logger.ts';
import { pairwiseSubject, providerClaims } from '../src/oidc/claims.ts';
import { createClient } from '../src/oidc/clients.ts';
import { ACR_VALUES, SCOPES } from '../src/oidc/client-policy.ts';
import { ephemeralSigningKeys } from '../src/oidc/mount.ts';
import { freePort } from '../test/support/free-port.ts';
import { benchCodeRoute, createBenchAccounts } from './login-server.ts';
import { OIDC_BENCH_ACCOUNTS, OIDC_BENCH_REDIRECT, OIDC_BENCH_SCOPE, type OidcBenchServer } from './oidc-client.ts';

async function sesame(databaseUrl: string | undefined): Promise<OidcBenchServer & { listen(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const db = await openDatabase({ databaseUrl, migrate: true });
  const deps: AppDeps = {
    // Logins are only the setup here (one per bench account): a cheap hash keeps it short.
    config: loadConfig({ LOG_LEVEL: 'silent', SESAME_PUBLIC_URL: url, PORT: String(port), SESAME_ARGON2_MEMORY_KIB: '1024', SESAME_ARGON2_TIME_COST: '1' }),
    db,
    ring: KeyRing.generate('kek-bench'),
    // The provider reads Date: its storage and our sessions must agree.
    clock: systemClock,
    logger: createLogger('silent'),
  };
  const app = await buildApp(deps);
  await createBenchAccounts(deps, OIDC_BENCH_ACCOUNTS);
  benchCodeRoute(app, deps);
  const [web, machine] = await system(db, 'bench', async (tx) => [
    await createClient(tx, deps.ring, systemClock, { name: 'Service de bench', redirectUris: [OIDC_BENCH_REDIRECT], scopes: OIDC_BENCH_SCOPE, authMethod: 'client_secret_basic' }, 'operator:bench'),
    await createClient(tx, deps.ring, systemClock, { name: 'Machine de bench', redirectUris: [OIDC_BENCH_REDIRECT], scopes: 'openid', authMethod: 'client_secret_basic', clientCredentials: true }, 'operator:bench'),
  ]);
  return {
    url,
    web: { clientId: web.client.clientId, secret: web.secret ?? '', redirectUri: OIDC_BENCH_REDIRECT },
    machine: { clientId: machine.client.clientId, secret: machine.secret ?? '' },
    async listen() {
      await app.listen({ port, host: '127.0.0.1' });
      process.on('SIGTERM', () => void app.close().then(() => db.close()).then(() => process.exit(0)));
    },
  };
}

async function bare(): Promise<OidcBenchServer & { listen(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const web = { clientId: 'bench-web-client-0001', secret: 'bench-web-secret-0123456789abcdef0123456789', redirectUri: OIDC_BENCH_REDIRECT };
  const machine = { clientId: 'bench-machine-client-01', secret: 'bench-machine-secret-0123456789abcdef01234' };
  const ring = KeyRing.generate('kek-bench');
  // The library's memory adapter keeps its last 1,000 entries: thousands of client-credentials
  // tokens would evict the sessions and codes. The same adapter class, on a larger LRU (the
  // library's own), as createMemoryAdapter() builds it.
  const lib = 'oidc-provider/lib/';
  const { default: MemoryAdapter } = (await import(`${lib}adapters/memory_adapter.js`)) as { default: new (model: string, store: unknown, clockTolerance: number) => Adapter };
  const { default: LRU } = (await import(`${lib}helpers/lru.js`)) as { default: new (o: { maxSize: number }) => unknown };
  const store = new LRU({ maxSize: 1_000_000 });
  const configuration: Configuration = {
    adapter: (model: string) => new MemoryAdapter(model, store, 0),
    clients: [
      { client_id: web.clientId, client_secret: web.secret, redirect_uris: [OIDC_BENCH_REDIRECT], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: OIDC_BENCH_SCOPE, default_acr_values: ['eidas1'] },
      { client_id: machine.clientId, client_secret: machine.secret, redirect_uris: [OIDC_BENCH_REDIRECT], grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid' },
    ],
    jwks: { keys: ephemeralSigningKeys() },
    cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    enabledJWA: { idTokenSigningAlgValues: ['ES256', 'RS256'] },
    clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['authorization_code'], response_types: ['code'], subject_type: 'pairwise', require_auth_time: true },
    subjectTypes: ['pairwise'],
    // The same HMAC as ours (the library's default is not implemented).
    pairwiseIdentifier: (_ctx, accountId, client) => pairwiseSubject(ring, accountId, `client:${client.clientId}`),
    acrValues: [...ACR_VALUES],
    scopes: [...SCOPES],
    claims: providerClaims(),
    responseTypes: ['code'],
    features: { clientCredentials: { enabled: true }, revocation: { enabled: true }, devInteractions: { enabled: false } },
    ttl: { AuthorizationCode: 30, AccessToken: 60, IdToken: 60, ClientCredentials: 60, Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600 },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, given_name: 'Bench', family_name: 'Mark', birthdate: '1950-01-01', gender: 'female', birthplace: '75056', birthcountry: '99100', email: 'bench@example.org' }),
    }),
  };
  const provider = new Provider(url, configuration);
  provider.on('server_error', (_ctx, err) => console.error(err));
  if (process.env.BENCH_OIDC_DEBUG) provider.on('grant.error', (_ctx, err) => console.error('grant.error', (err as Error & { error_detail?: string }).error_detail));
  const callback = provider.callback();
  // The interaction: login and consent at once, as a citizen who is already signed in would.
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/interaction/')) return void callback(req, res);
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        await provider.interactionFinished(req, res, { login: { accountId: 'bench-account', acr: 'eidas1', amr: ['pwd', 'mail'] } }, { mergeWithLastSubmission: false });
        return;
      }
      const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: 'bench-account', clientId: String(details.params.client_id) });
      if (!grant) throw new Error('grant gone');
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  return {
    url,
    web,
    machine,
    async listen() {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      process.on('SIGTERM', () => void server.close(() => process.exit(0)));
    },
  };
}

const [kind, databaseUrl] = process.argv.slice(2);
const s = kind === 'bare' ? await bare() : await sesame(databaseUrl);
await s.listen();
const { url, web, machine } = s;
process.stdout.write(`${JSON.stringify({ url, web, machine })}\n`);
