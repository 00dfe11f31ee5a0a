import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { createClient } from '../../src/oidc/clients.ts';
import { PROVIDER_COOKIE_NAMES } from '../../src/oidc/mount.ts';
import { PRODUCTION_ENV, testApp, type TestApp } from '../support/app.ts';

/**
 * Cookie injection from a sibling subdomain (`evil.gouv.fr` setting a cookie for `.gouv.fr`):
 * in production the provider's cookies carry the __Host- / __Secure- prefixes, which browsers
 * only accept when set Secure by the host itself (and, for __Host-, without Domain, on path /),
 * like every cookie of Sésame's own.
 */
let t: TestApp;
let clientId: string;
before(async () => {
  t = await testApp({ env: { ...PRODUCTION_ENV, SESAME_TRUST_PROXY: '1' } });
  clientId = (
    await system(t.deps.db, 'test', (tx) =>
      createClient(tx, t.deps.ring, t.clock, { name: 'Service', redirectUris: ['https://service.example.gouv.fr/cb'], scopes: 'openid' }, 'operator:test'),
    )
  ).client.clientId;
});
after(() => t.close());

test('production: the interaction cookies are __Secure-, Secure, HttpOnly, path-scoped; the session cookie name is __Host-', async () => {
  const query = new URLSearchParams({ client_id: clientId, redirect_uri: 'https://service.example.gouv.fr/cb', response_type: 'code', scope: 'openid', state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
  const res = await t.app.inject({ method: 'GET', url: `/oidc/auth?${query}`, headers: { host: 'sesame.test', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' } });
  assert.equal(res.statusCode, 303, res.body);
  const cookies = [res.headers['set-cookie'] ?? []].flat().map(String);
  const named = (name: string): string[] => cookies.filter((c) => c.startsWith(`${name}=`) || c.startsWith(`${name}.sig=`));
  for (const name of [PROVIDER_COOKIE_NAMES.interaction, PROVIDER_COOKIE_NAMES.resume]) {
    const set = named(name);
    assert.ok(set.length > 0, `${name} set`);
    for (const c of set) {
      assert.match(c, /; secure/i, `${name} is Secure`);
      assert.match(c, /; httponly/i);
      assert.doesNotMatch(c, /; domain=/i);
    }
  }
  assert.equal(cookies.some((c) => /^_(session|interaction|interaction_resume)(\.sig)?=/.test(c)), false, 'no unprefixed provider cookie');
  assert.match(PROVIDER_COOKIE_NAMES.session, /^__Host-/);
});
