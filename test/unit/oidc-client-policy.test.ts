import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkClient, checkRedirectUri, checkSector, ClientInputError, type ClientInput } from '../../src/oidc/client-policy.ts';
import { newClientId, subjectSector } from '../../src/oidc/clients.ts';

/** The registry's rules for the per-client options, without a database. */
const base: ClientInput = { name: 'Service', redirectUris: ['https://s.example.gouv.fr/cb'], scopes: 'openid' };

const refused = (input: Partial<ClientInput>, field: string, message: RegExp): void => {
  assert.throws(
    () => checkClient({ ...base, ...input }),
    (err: unknown) => err instanceof ClientInputError && err.field === field && message.test(err.message),
  );
};

test('defaults: ES256 ID token, JSON userinfo, no refresh token, no logout URI, no sector', () => {
  const c = checkClient(base);
  assert.equal(c.idTokenAlg, 'ES256');
  assert.equal(c.userinfoSignedAlg, null);
  assert.equal(c.userinfoEncryptedAlg, null);
  assert.equal(c.userinfoEncryptedEnc, null);
  assert.equal(c.refreshTokens, false);
  assert.deepEqual(c.postLogoutRedirectUris, []);
  assert.equal(c.sector, null);
  assert.deepEqual(c.grantTypes, ['authorization_code']);
  assert.equal(c.authMethod, 'client_secret_basic');
});

test('userinfo encryption: asymmetric only, signed inside, to the keys at jwks_uri; enc defaults to A128CBC-HS256', () => {
  const c = checkClient({ ...base, userinfoAlg: 'ES256', userinfoEncAlg: 'ECDH-ES', jwksUri: 'https://s.example.gouv.fr/jwks' });
  assert.equal(c.userinfoEncryptedEnc, 'A128CBC-HS256');
  assert.equal(c.jwksUri, 'https://s.example.gouv.fr/jwks');
  assert.equal(c.authMethod, 'client_secret_basic', 'the keys are for encryption, the client still authenticates with its secret');
  for (const alg of ['dir', 'A256KW', 'PBES2-HS256+A128KW', 'RSA1_5']) refused({ userinfoAlg: 'ES256', userinfoEncAlg: alg, jwksUri: 'https://s.example.gouv.fr/jwks' }, 'userinfo-enc-alg', /must be one of/);
  refused({ userinfoEncAlg: 'RSA-OAEP', jwksUri: 'https://s.example.gouv.fr/jwks' }, 'userinfo-enc-alg', /needs --userinfo-alg/);
  refused({ userinfoAlg: 'RS256', userinfoEncAlg: 'RSA-OAEP' }, 'jwks-uri', /is required with --userinfo-enc-alg/);
  refused({ userinfoEnc: 'A256GCM' }, 'userinfo-enc', /only used with --userinfo-enc-alg/);
  refused({ jwksUri: 'https://s.example.gouv.fr/jwks' }, 'jwks-uri', /only used with/);
  for (const alg of ['none', 'HS256', 'PS256']) refused({ userinfoAlg: alg }, 'userinfo-alg', /must be one of ES256, RS256/);
  refused({ idTokenAlg: 'none' }, 'id-token-alg', /must be one of ES256, RS256/);
});

test('a public client: no client credentials, no refresh tokens', () => {
  const c = checkClient({ ...base, authMethod: 'none' });
  assert.equal(c.authMethod, 'none');
  refused({ authMethod: 'none', refreshTokens: true }, 'refresh-tokens', /not allowed with --auth-method none/);
  refused({ authMethod: 'none', clientCredentials: true }, 'client-credentials', /not allowed with --auth-method none/);
});

test('refresh tokens come with the authorization code grant only', () => {
  assert.equal(checkClient({ ...base, refreshTokens: true }).refreshTokens, true);
  refused({ redirectUris: [], clientCredentials: true, refreshTokens: true }, 'refresh-tokens', /needs --redirect-uri/);
});

test('post-logout redirect URIs follow the redirect URI rules, under their own flag', () => {
  const c = checkClient({ ...base, postLogoutRedirectUris: ['https://s.example.gouv.fr/bye', 'https://s.example.gouv.fr/bye', 'http://localhost:3000/bye'] });
  assert.deepEqual(c.postLogoutRedirectUris, ['https://s.example.gouv.fr/bye', 'http://localhost:3000/bye'], 'once each');
  refused({ postLogoutRedirectUris: ['https://s.example.gouv.fr@evil.example/bye'] }, 'post-logout-redirect-uri', /userinfo/);
  refused({ postLogoutRedirectUris: ['https://s.example.gouv.fr/*'] }, 'post-logout-redirect-uri', /wildcards/);
  refused({ postLogoutRedirectUris: ['javascript:alert(1)'] }, 'post-logout-redirect-uri', /https/);
  refused({ postLogoutRedirectUris: Array.from({ length: 21 }, (_, i) => `https://s.example.gouv.fr/bye${i}`) }, 'post-logout-redirect-uri', /at most 20/);
  refused({ redirectUris: [], clientCredentials: true, postLogoutRedirectUris: ['https://s.example.gouv.fr/bye'] }, 'post-logout-redirect-uri', /needs --redirect-uri/);
  assert.equal(checkRedirectUri('https://s.example.gouv.fr/bye', 'post-logout-redirect-uri'), 'https://s.example.gouv.fr/bye');
});

test('a sector is a lower-case name; the pairwise sub is derived from it, else from the client', () => {
  assert.equal(checkSector('dgfip.gouv.fr'), 'dgfip.gouv.fr');
  for (const bad of ['', 'DGFIP', '-dgfip', 'dgfip gouv', 'a'.repeat(64), 'dgfip/fr']) assert.throws(() => checkSector(bad), ClientInputError, bad);
  assert.equal(subjectSector({ clientId: 'client-a', sector: 'dgfip.gouv.fr' }), 'sector:dgfip.gouv.fr');
  assert.equal(subjectSector({ clientId: 'client-b', sector: 'dgfip.gouv.fr' }), 'sector:dgfip.gouv.fr');
  assert.equal(subjectSector({ clientId: 'client-a' }), 'client:client-a');
  assert.equal(subjectSector({ clientId: 'client-a', sector: 42 }), 'client:client-a', 'only a string');
});

test('client ids never start with "-" or "_" (a command line would read "-x…" as an option)', () => {
  for (let i = 0; i < 500; i++) assert.match(newClientId(), /^[A-Za-z0-9][A-Za-z0-9_-]{23}$/);
});
