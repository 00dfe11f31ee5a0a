import { audit } from '../../audit/log.ts';
import { system } from '../../db/contexts.ts';
import { checkClient, ClientInputError } from '../../oidc/client-policy.ts';
import { createClient, disableClient, findClient, listClients, rotateClientSecret, type RegisteredClient } from '../../oidc/clients.ts';
import { flags } from '../args.ts';
import type { Command } from '../command.ts';
import { CommandError, EXIT, UsageError, print } from '../io.ts';
import { withRuntime } from '../runtime.ts';

/**
 * `sesame clients create|list|show|disable|rotate-secret`: the relying parties (public
 * services) that may sign citizens in with Sésame. A secret is printed once and kept only as
 * a MAC: lose it and rotate it. See docs/integration.md.
 */
const CLIENT_ID = /^[A-Za-z0-9_-]{16,64}$/;

function clientIdFlag(value: string | undefined): string {
  if (value === undefined) throw new UsageError('--client-id is required');
  if (!CLIENT_ID.test(value)) throw new UsageError('--client-id: not a client id');
  return value;
}

const asJson = (c: RegisteredClient): Record<string, unknown> => ({
  client_id: c.clientId,
  name: c.name,
  redirect_uris: c.redirectUris,
  scopes: c.scopes,
  grant_types: c.grantTypes,
  acr_min: c.acrMin,
  acr_default: c.acrDefault,
  auth_method: c.authMethod,
  jwks_uri: c.jwksUri,
  id_token_alg: c.idTokenAlg,
  userinfo_alg: c.userinfoSignedAlg,
  userinfo_enc_alg: c.userinfoEncryptedAlg,
  userinfo_enc: c.userinfoEncryptedEnc,
  refresh_tokens: c.refreshTokens,
  post_logout_redirect_uris: c.postLogoutRedirectUris,
  sector: c.sector,
  created_at: c.createdAt.toISOString(),
  secret_rotated_at: c.secretRotatedAt?.toISOString() ?? null,
  disabled_at: c.disabledAt?.toISOString() ?? null,
});

const describe = (c: RegisteredClient): string[] => [
  `client_id:     ${c.clientId}`,
  `name:          ${c.name}`,
  `status:        ${c.disabledAt ? `disabled ${c.disabledAt.toISOString()}` : 'active'}`,
  `redirect URIs: ${c.redirectUris.join(' ') || '(none: machine client)'}`,
  `scopes:        ${c.scopes.join(' ')}`,
  `grant types:   ${c.grantTypes.join(' ')}`,
  `acr:           minimum ${c.acrMin}, default ${c.acrDefault}`,
  `auth method:   ${c.authMethod === 'none' ? 'none (public client: PKCE S256 required)' : c.authMethod}${c.jwksUri ? ` (keys at ${c.jwksUri})` : ''}`,
  `ID token:      signed ${c.idTokenAlg}`,
  `userinfo:      ${c.userinfoSignedAlg ? `JWT signed ${c.userinfoSignedAlg}${c.userinfoEncryptedAlg ? `, encrypted ${c.userinfoEncryptedAlg} ${c.userinfoEncryptedEnc ?? ''}` : ''}` : 'JSON'}`,
  `refresh tokens: ${c.refreshTokens ? 'yes' : 'no'}`,
  `logout URIs:   ${c.postLogoutRedirectUris.join(' ') || '(none)'}`,
  `sub:           pairwise, ${c.sector ? `shared by the sector ${c.sector}` : 'own to this client'}`,
  `created:       ${c.createdAt.toISOString()} by ${c.createdBy}${c.secretRotatedAt ? `; secret rotated ${c.secretRotatedAt.toISOString()}` : ''}`,
];

export const clientsCreateCommand: Command = {
  name: 'clients create',
  summary: 'register a relying party (public service) and print its client id and secret (shown once)',
  usage:
    'sesame clients create --name NAME --redirect-uri URI [--redirect-uri URI…] --scopes "openid identite_pivot …" [--acr-min eidas1] [--acr-default eidas1] [--auth-method client_secret_post|client_secret_basic|private_key_jwt|none] [--jwks-uri URI] [--client-credentials] [--id-token-alg ES256|RS256] [--userinfo-alg ES256|RS256] [--userinfo-enc-alg ECDH-ES|RSA-OAEP|RSA-OAEP-256 [--userinfo-enc A128GCM|A256GCM|A128CBC-HS256|A256CBC-HS512]] [--refresh-tokens] [--post-logout-redirect-uri URI…] [--sector NAME] [--json]',
  async run(args, io) {
    const f = flags(args, {
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      scopes: { type: 'string' },
      'acr-min': { type: 'string' },
      'acr-default': { type: 'string' },
      'auth-method': { type: 'string' },
      'jwks-uri': { type: 'string' },
      'client-credentials': { type: 'boolean' },
      'id-token-alg': { type: 'string' },
      'userinfo-alg': { type: 'string' },
      'userinfo-enc-alg': { type: 'string' },
      'userinfo-enc': { type: 'string' },
      'refresh-tokens': { type: 'boolean' },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      sector: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (f.name === undefined) throw new UsageError('--name is required');
    if (f.scopes === undefined) throw new UsageError('--scopes is required (e.g. --scopes "openid identite_pivot")');
    const input = {
      name: f.name,
      redirectUris: f['redirect-uri'] ?? [],
      scopes: f.scopes,
      acrMin: f['acr-min'],
      acrDefault: f['acr-default'],
      authMethod: f['auth-method'],
      jwksUri: f['jwks-uri'],
      clientCredentials: f['client-credentials'] ?? false,
      idTokenAlg: f['id-token-alg'],
      userinfoAlg: f['userinfo-alg'],
      userinfoEncAlg: f['userinfo-enc-alg'],
      userinfoEnc: f['userinfo-enc'],
      refreshTokens: f['refresh-tokens'] ?? false,
      postLogoutRedirectUris: f['post-logout-redirect-uri'] ?? [],
      sector: f.sector,
    };
    // Checked before opening anything, so that a wrong flag is a usage error (exit 2) at once.
    try {
      checkClient(input);
    } catch (err) {
      if (err instanceof ClientInputError) throw new UsageError(`--${err.field}: ${err.message}`);
      throw err;
    }
    return withRuntime(io, async (rt) => {
      const { client, secret } = await system(rt.db, 'cli:clients-create', async (tx) => {
        const created = await createClient(tx, rt.ring, rt.clock, input, `operator:${rt.operator}`);
        const c = created.client;
        const grantTypes = c.refreshTokens ? [...c.grantTypes, 'refresh_token'] : c.grantTypes;
        await audit(tx, rt.clock, { type: 'oidc.client-created', accountId: null, payload: { clientId: c.clientId, authMethod: c.authMethod, scopes: c.scopes, grantTypes } }, rt.operator);
        return created;
      });
      if (f.json) {
        print(io.stdout, JSON.stringify({ client_id: client.clientId, client_secret: secret, ...asJson(client) }));
        return EXIT.ok;
      }
      print(io.stdout, `registered "${client.name}"`);
      for (const line of describe(client)) print(io.stdout, line);
      if (secret) {
        print(io.stdout, `client_secret: ${secret}`);
        print(io.stdout, 'The secret is shown only now (only its MAC is stored): hand it to the service over a secure channel.');
        print(io.stdout, `A lost secret is replaced with \`sesame clients rotate-secret --client-id ${client.clientId}\`.`);
      }
      return EXIT.ok;
    });
  },
};

export const clientsListCommand: Command = {
  name: 'clients list',
  summary: 'list the registered relying parties',
  usage: 'sesame clients list [--json]',
  async run(args, io) {
    const f = flags(args, { json: { type: 'boolean' } });
    return withRuntime(io, async (rt) => {
      const all = await system(rt.db, 'cli:clients-list', (tx) => listClients(tx));
      if (f.json) {
        print(io.stdout, JSON.stringify(all.map(asJson)));
        return EXIT.ok;
      }
      if (all.length === 0) print(io.stdout, 'no client: register one with `sesame clients create`');
      for (const c of all) print(io.stdout, `${c.clientId}  ${(c.disabledAt ? 'disabled' : 'active').padEnd(8)}  ${c.authMethod.padEnd(19)}  ${c.name}`);
      return EXIT.ok;
    });
  },
};

export const clientsShowCommand: Command = {
  name: 'clients show',
  summary: 'show one relying party (never its secret)',
  usage: 'sesame clients show --client-id ID [--json]',
  async run(args, io) {
    const f = flags(args, { 'client-id': { type: 'string' }, json: { type: 'boolean' } });
    const clientId = clientIdFlag(f['client-id']);
    return withRuntime(io, async (rt) => {
      const client = await system(rt.db, 'cli:clients-show', (tx) => findClient(tx, clientId));
      if (!client) throw new CommandError(`--client-id: no client ${clientId}`);
      if (f.json) print(io.stdout, JSON.stringify(asJson(client)));
      else for (const line of describe(client)) print(io.stdout, line);
      return EXIT.ok;
    });
  },
};

export const clientsDisableCommand: Command = {
  name: 'clients disable',
  summary: 'disable a relying party: the provider no longer knows it, its tokens stop working',
  usage: 'sesame clients disable --client-id ID [--json]',
  async run(args, io) {
    const f = flags(args, { 'client-id': { type: 'string' }, json: { type: 'boolean' } });
    const clientId = clientIdFlag(f['client-id']);
    return withRuntime(io, async (rt) => {
      const outcome = await system(rt.db, 'cli:clients-disable', async (tx) => {
        const result = await disableClient(tx, rt.clock, clientId);
        if (result === 'disabled') await audit(tx, rt.clock, { type: 'oidc.client-disabled', accountId: null, payload: { clientId } }, rt.operator);
        return result;
      });
      if (outcome === 'unknown') throw new CommandError(`--client-id: no client ${clientId}`);
      if (f.json) print(io.stdout, JSON.stringify({ client_id: clientId, disabled: true, changed: outcome === 'disabled' }));
      else print(io.stdout, outcome === 'disabled' ? `disabled ${clientId}` : `${clientId} was already disabled`);
      return EXIT.ok;
    });
  },
};

export const clientsRotateSecretCommand: Command = {
  name: 'clients rotate-secret',
  summary: 'issue a new client secret (shown once); the old one stops working at once',
  usage: 'sesame clients rotate-secret --client-id ID [--json]',
  async run(args, io) {
    const f = flags(args, { 'client-id': { type: 'string' }, json: { type: 'boolean' } });
    const clientId = clientIdFlag(f['client-id']);
    return withRuntime(io, async (rt) => {
      const result = await system(rt.db, 'cli:clients-rotate-secret', async (tx) => {
        const secret = await rotateClientSecret(tx, rt.ring, rt.clock, clientId);
        if (secret !== 'unknown' && secret !== 'disabled' && secret !== 'no-secret') await audit(tx, rt.clock, { type: 'oidc.client-secret-rotated', accountId: null, payload: { clientId } }, rt.operator);
        return secret;
      });
      if (result === 'unknown') throw new CommandError(`--client-id: no client ${clientId}`);
      if (result === 'disabled') throw new CommandError(`--client-id: ${clientId} is disabled`);
      if (result === 'no-secret') throw new CommandError(`--client-id: ${clientId} has no secret (private_key_jwt or a public client)`);
      if (f.json) print(io.stdout, JSON.stringify({ client_id: clientId, client_secret: result }));
      else {
        print(io.stdout, `client_secret: ${result}`);
        print(io.stdout, 'The previous secret no longer works. This one is shown only now.');
      }
      return EXIT.ok;
    });
  },
};
