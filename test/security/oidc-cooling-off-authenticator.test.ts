import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { system } from '../../src/db/contexts.ts';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { Browser, citizenWithPassword, logIn, type Citizen } from '../support/login.ts';
import { appCode, enrolApp } from '../support/totp.ts';
import { authorize, follow, HttpBrowser, listeningApp, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * A phished password and mailbox: whoever holds them adds their own authenticator app (from an
 * eidas1 session, so it cools off for a day), then signs in with password + app. For Sésame's
 * own sensitive operations that app does not count yet; for the services it must not either:
 * the ID token says eidas1 (and no `mfa`), and a service asking eidas2 gets the step-up, whose
 * page explains the cooling-off, never an eidas2 token.
 */
for (const backend of backends()) {
  describe(`oidc: an authenticator in its cooling-off is asserted eidas1 on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let rp: RelyingParty;
    let c: Citizen;
    let secret = '';
    let b: HttpBrowser;

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb));
      rp = await relyingParty(t, base, { name: 'Service', redirectUri: 'http://localhost:4301/callback', scopes: 'openid' });
      c = await citizenWithPassword(t);
      // The app added from a password + email code session: it cools off (a day).
      const enrolling = new Browser(t);
      await logIn(enrolling, c);
      ({ secret } = await enrolApp(enrolling));
      // Password + app, in the browser that goes to the service.
      b = new HttpBrowser(base);
      await b.get('/login');
      const first = await b.post('/login', { method: 'password', nir: c.nir, password: c.password });
      assert.equal(first.status, 303);
      const flow = new URL(first.headers.get('location') ?? '', base).pathname;
      await b.get(`${flow}/totp`);
      const done = await b.post(`${flow}/totp`, { method: 'totp', code: appCode(secret, t.clock) });
      assert.equal(done.status, 303, 'password + app accepted (a login, not a sensitive operation)');
      await follow(b, t, rp, c, done, /^\/account/);
    });
    after(async () => {
      await t.close();
      await tdb.close();
    });

    test('the session is eidas2 for Sésame, but the service is told eidas1, without mfa', async () => {
      const attempt = await authorize(b, t, rp, c, { scope: 'openid', stopAt: /^\/(step-up|login)/ });
      const tokens = await oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
      const claims = tokens.claims();
      assert.equal(claims?.acr, 'eidas1');
      assert.deepEqual([...((claims?.amr as string[] | undefined) ?? [])].sort(), ['otp', 'pwd']);
    });

    test('acr_values=eidas2: the step-up, which explains the cooling-off; never an eidas2 code', async () => {
      const attempt = await authorize(b, t, rp, c, { scope: 'openid', params: { acr_values: 'eidas2' }, stopAt: /^\/step-up\// });
      assert.match(attempt.end.pathname, /^\/step-up\/[0-9a-f-]{36}$/);
      const page = await b.get(attempt.end.pathname);
      assert.equal(page.status, 200);
      assert.ok(b.lastPage.includes('Méthode trop récente'), 'the cooling-off is explained');
    });

    test('acr_values=eidas2 with prompt=none: login_required, never a code', async () => {
      const attempt = await authorize(b, t, rp, c, { scope: 'openid', params: { acr_values: 'eidas2', prompt: 'none' } });
      assert.equal(attempt.end.searchParams.get('code'), null);
      assert.equal(attempt.end.searchParams.get('error'), 'login_required');
    });

    test('the cooling-off over, the same session is asserted eidas2 (the provider’s eidas1 is not kept)', async () => {
      await system(t.deps.db, 'test', (tx) => tx.query(`UPDATE sessions SET sensitive_from = $2 WHERE account_id = $1`, [c.accountId, new Date(t.clock.now().getTime() - 1000)]));
      const attempt = await authorize(b, t, rp, c, { scope: 'openid', params: { acr_values: 'eidas2' }, stopAt: /^\/(step-up|login)/ });
      const tokens = await oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce });
      assert.equal(tokens.claims()?.acr, 'eidas2');
      assert.ok(((tokens.claims()?.amr as string[] | undefined) ?? []).includes('mfa'));
    });
  });
}
