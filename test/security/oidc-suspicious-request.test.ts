import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { appCode, citizenWithApp } from '../support/totp.ts';
import { authorize, follow, HttpBrowser, listeningApp, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

const HEADER = 'x-waf-suspicious';

/** A browser whose every request the reverse proxy's WAF marks as suspicious. */
class MarkedBrowser extends HttpBrowser {
  override request(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    return super.request(url, { ...init, headers: { ...init.headers, [HEADER]: '1' } });
  }
}

/** Password + authenticator app: an eidas2 session. */
async function logInWithApp(b: HttpBrowser, c: Citizen, secret: string, t: TestApp): Promise<Response> {
  await b.get('/login');
  const first = await b.post('/login', { method: 'password', nir: c.nir, password: c.password });
  assert.equal(first.status, 303, 'password refused');
  const flow = new URL(first.headers.get('location') ?? '', b.base).pathname;
  await b.get(`${flow}/totp`);
  const done = await b.post(`${flow}/totp`, { method: 'totp', code: appCode(secret, t.clock) });
  assert.equal(done.status, 303, 'app code refused');
  return done;
}

/**
 * Session riding / stolen-session attack behind a WAF: the reverse proxy marks a request as
 * suspicious (SESAME_OIDC_SUSPICIOUS_HEADER). Such a request must not be answered from the
 * live session (no SSO, even at eidas2) nor at eidas1: the citizen authenticates again, with
 * a strong method, in this interaction. The same browser without the mark keeps its SSO.
 */
for (const backend of backends()) {
  describe(`oidc suspicious request (reverse proxy mark) on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let rp: RelyingParty;
    let weak: Citizen;
    let strong: Citizen;
    let secret = '';
    let weakBrowser: HttpBrowser;
    let strongBrowser: HttpBrowser;

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb, { SESAME_OIDC_SUSPICIOUS_HEADER: 'X-Waf-Suspicious', SESAME_TRUST_PROXY: '1' }));
      rp = await relyingParty(t, base, { name: 'Service', redirectUri: 'http://localhost:4201/callback', scopes: 'openid' });
      weak = await citizenWithPassword(t);
      // An app past its cooling-off, ending some minutes before real time: the sessions below
      // are older than the interactions the provider starts (its clock is Date).
      t.clock.set(new Date(Date.now() - 24 * 3600 * 1000 - 11 * 60_000));
      ({ c: strong, secret } = await citizenWithApp(t));
      // Live sessions with the service's consent: eidas1 (password + email code), eidas2 (password + app).
      weakBrowser = new HttpBrowser(base);
      const w = await authorize(weakBrowser, t, rp, weak, { scope: 'openid' });
      assert.ok(w.end.searchParams.get('code'));
      strongBrowser = new HttpBrowser(base);
      await follow(strongBrowser, t, rp, strong, await logInWithApp(strongBrowser, strong, secret, t), /^\/account/);
      const s = await authorize(strongBrowser, t, rp, strong, { scope: 'openid' });
      const tokens = await oidc.authorizationCodeGrant(rp.config, s.end, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
      assert.equal(tokens.claims()?.acr, 'eidas2');
    });
    after(async () => {
      await t.close();
      await tdb.close();
    });

    test('unmarked, the live sessions sign in at once (SSO): the control', async () => {
      for (const [b, c] of [[weakBrowser, weak], [strongBrowser, strong]] as const) {
        const attempt = await authorize(b, t, rp, c, { scope: 'openid', stopAt: /^\/(step-up|login)/ });
        assert.ok(attempt.end.searchParams.get('code'), 'a code without any page');
      }
    });

    test('marked, with a live eidas1 session: a step-up to eidas2, never a code', async () => {
      const marked = new MarkedBrowser(base);
      for (const [k, v] of weakBrowser.jar) marked.jar.set(k, v);
      const attempt = await authorize(marked, t, rp, weak, { scope: 'openid', stopAt: /^\/step-up\// });
      assert.match(attempt.end.pathname, /^\/step-up\/[0-9a-f-]{36}$/);
    });

    test('marked with prompt=none: login_required to the service, never a code', async () => {
      const marked = new MarkedBrowser(base);
      for (const [k, v] of strongBrowser.jar) marked.jar.set(k, v);
      const attempt = await authorize(marked, t, rp, strong, { scope: 'openid', params: { prompt: 'none' } });
      assert.equal(attempt.end.searchParams.get('code'), null);
      assert.equal(attempt.end.searchParams.get('error'), 'login_required');
    });

    test('marked, with a live eidas2 session: no SSO — a fresh authentication in this interaction, then an eidas2 token', async () => {
      const marked = new MarkedBrowser(base);
      for (const [k, v] of strongBrowser.jar) marked.jar.set(k, v);
      const asked = await authorize(marked, t, rp, strong, { scope: 'openid', stopAt: /^\/step-up\// });
      assert.match(asked.end.pathname, /^\/step-up\//, 'the live eidas2 session is not enough');
      // The step-up, now (real time, as the provider's interaction).
      t.clock.set(new Date(Date.now() + 1000));
      const stepUp = asked.end.pathname;
      await marked.get(stepUp);
      assert.equal((await marked.post(stepUp, { method: 'password', password: strong.password })).status, 303);
      await marked.get(`${stepUp}/totp`);
      const done = await marked.post(`${stepUp}/totp`, { method: 'totp', code: appCode(secret, t.clock) });
      assert.equal(done.status, 303);
      const back = await follow(marked, t, rp, strong, done);
      const tokens = await oidc.authorizationCodeGrant(rp.config, back.end, { pkceCodeVerifier: asked.verifier, expectedState: asked.state, expectedNonce: asked.nonce });
      const claims = tokens.claims();
      assert.equal(claims?.acr, 'eidas2');
      assert.ok(Number(claims?.auth_time) * 1000 >= t.clock.now().getTime() - 2000, 'auth_time is the fresh authentication');
    });

    test('marked, without a session: the login, then the step-up to eidas2 (an email code is not enough)', async () => {
      t.clock.set(new Date(Date.now() + 1000));
      const marked = new MarkedBrowser(base);
      const attempt = await authorize(marked, t, rp, weak, { scope: 'openid', stopAt: /^\/step-up\// });
      assert.match(attempt.end.pathname, /^\/step-up\//);
    });

    test('a value not in the rule (the proxy says "0") is no mark', async () => {
      const b = new HttpBrowser(base);
      for (const [k, v] of weakBrowser.jar) b.jar.set(k, v);
      const original = b.request.bind(b);
      b.request = (url, init = {}) => original(url, { ...init, headers: { ...init.headers, [HEADER]: '0' } });
      const attempt = await authorize(b, t, rp, weak, { scope: 'openid', stopAt: /^\/(step-up|login)/ });
      assert.ok(attempt.end.searchParams.get('code'));
    });
  });
}
