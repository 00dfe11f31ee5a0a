import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, listeningApp, logInThroughPages, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * Consent bypass: a service gets a code only for what the citizen agreed to, on our consent
 * page, in their own browser. Not with prompt=none before any consent, not by an attacker
 * POSTing the consent of another browser's interaction (its id, or its cookie forged), not
 * with a cross-site form (no CSRF token), not before the login, not by replaying the consent
 * once the interaction ended, not after the citizen changed in that browser, not for a scope
 * added after the consent, and a refusal records nothing.
 */
for (const backend of backends()) {
  describe(`oidc consent bypass on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let known: RelyingParty;
    let service: RelyingParty;
    let victim: Citizen;
    let attacker: Citizen;

    /** A browser logged in to Sésame and to the provider (consent given to `known` only). */
    async function signedIn(c: Citizen): Promise<HttpBrowser> {
      const b = new HttpBrowser(base);
      const first = await authorize(b, t, known, c, { scope: 'openid' });
      assert.ok(first.end.searchParams.get('code'));
      return b;
    }

    /** Up to our consent page for `service` (rendered: the browser holds its CSRF token); its path. */
    async function atConsentPage(b: HttpBrowser, c: Citizen, scope = 'openid email'): Promise<string> {
      const attempt = await authorize(b, t, service, c, { scope, stopAt: /^\/oidc\/interaction\// });
      const path = attempt.end.pathname;
      const page = await b.get(path);
      assert.equal(page.status, 200);
      assert.match(b.lastPage, /action="[^"]+\/consent"/);
      return path;
    }

    const silent = (b: HttpBrowser, c: Citizen, scope = 'openid email'): Promise<URL> => authorize(b, t, service, c, { scope, params: { prompt: 'none' } }).then((a) => a.end);

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb));
      known = await relyingParty(t, base, { name: 'Service connu', redirectUri: 'http://localhost:4601/callback', scopes: 'openid' });
      service = await relyingParty(t, base, { name: 'Service', redirectUri: 'http://localhost:4602/callback', scopes: 'openid email identite_pivot' });
      victim = await citizenWithPassword(t);
      attacker = await citizenWithPassword(t);
    });
    after(async () => {
      await t.close();
      await tdb.close();
    });

    test('prompt=none before any consent to this service: consent_required, no code', async () => {
      const b = await signedIn(victim);
      const end = await silent(b, victim);
      assert.equal(`${end.origin}${end.pathname}`, service.redirectUri);
      assert.equal(end.searchParams.get('code'), null);
      assert.equal(end.searchParams.get('error'), 'consent_required');
    });

    test('another browser POSTing the consent of the victim’s interaction: refused, nothing granted', async () => {
      const v = await signedIn(victim);
      const victimPath = await atConsentPage(v, victim);
      const x = await signedIn(attacker);
      const attackerPath = await atConsentPage(x, attacker);
      const attackerPage = x.lastPage;
      // With the attacker's own cookies and CSRF token, the victim's interaction id.
      const res = await x.post(`${victimPath}/consent`, {});
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      // The attacker's interaction cookie rewritten to name the victim's interaction (its signature is the provider's).
      const victimUid = victimPath.split('/').pop() ?? '';
      const attackerUid = attackerPath.split('/').pop() ?? '';
      let rewritten = 0;
      for (const [name, value] of x.jar) {
        if (!value.includes(attackerUid)) continue;
        x.jar.set(name, value.replaceAll(attackerUid, victimUid));
        rewritten++;
      }
      assert.ok(rewritten > 0, 'the attacker holds an interaction cookie to rewrite');
      x.lastPage = attackerPage;
      const forged = await x.post(`${victimPath}/consent`, {});
      assert.equal(forged.status, 400);
      assert.equal(forged.headers.get('location'), null);
      // Nothing was granted to the victim's account.
      const end = await silent(await signedIn(victim), victim);
      assert.equal(end.searchParams.get('error'), 'consent_required');
    });

    test('a cross-site form (no CSRF token) cannot accept the consent', async () => {
      const v = await signedIn(victim);
      const path = await atConsentPage(v, victim);
      const res = await v.request(`${path}/consent`, { method: 'POST', body: '', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' } });
      assert.equal(res.status, 403);
      assert.equal((await silent(await signedIn(victim), victim)).searchParams.get('error'), 'consent_required');
    });

    test('POSTing the consent before the login: refused, the login is still asked', async () => {
      const b = new HttpBrowser(base);
      const attempt = await authorize(b, t, service, victim, { scope: 'openid email', stopAt: /^\/oidc\/interaction\// });
      const path = attempt.end.pathname;
      await b.get('/login');
      const res = await b.post(`${path}/consent`, {});
      assert.equal(res.status, 400);
      const again = await b.get(path);
      assert.equal(again.status, 303);
      assert.match(again.headers.get('location') ?? '', /^\/login/);
    });

    test('another citizen logs in in the same browser before the consent is posted: no grant to either', async () => {
      const b = await signedIn(victim);
      const path = await atConsentPage(b, victim);
      b.jar.delete('__Host-sesame-session');
      await logInThroughPages(b, t, attacker);
      await b.get('/account');
      const res = await b.post(`${path}/consent`, {});
      assert.equal(res.status, 400);
      // Going back to the interaction ends it with an error to the service, never a code.
      const back = await b.get(path);
      assert.equal(back.status, 303);
      const resumed = await b.get(back.headers.get('location') ?? '');
      const end = new URL(resumed.headers.get('location') ?? '', base);
      assert.equal(`${end.origin}${end.pathname}`, service.redirectUri);
      assert.equal(end.searchParams.get('code'), null);
      assert.equal(end.searchParams.get('error'), 'login_required');
    });

    test('refusing records nothing: prompt=none still gets consent_required', async () => {
      const b = await signedIn(victim);
      await atConsentPage(b, victim);
      const action = /<form method="post" action="([^"]+\/abort)">/.exec(b.lastPage)?.[1] ?? '';
      assert.ok(action);
      const refused = await b.post(action, {});
      assert.equal(refused.status, 303);
      const resumed = await b.get(refused.headers.get('location') ?? '');
      const end = new URL(resumed.headers.get('location') ?? '', base);
      assert.equal(end.searchParams.get('error'), 'access_denied');
      assert.equal((await silent(b, victim)).searchParams.get('error'), 'consent_required');
    });

    test('the consent posted twice: the replay gets an error, not a second code', async () => {
      const b = await signedIn(victim);
      const path = await atConsentPage(b, victim, 'openid');
      const page = b.lastPage;
      const accepted = await b.post(`${path}/consent`, {});
      assert.equal(accepted.status, 303);
      const resumed = await b.get(accepted.headers.get('location') ?? '');
      assert.ok(new URL(resumed.headers.get('location') ?? '', base).searchParams.get('code'));
      b.lastPage = page;
      const replay = await b.post(`${path}/consent`, {});
      assert.equal(replay.status, 400);
      assert.equal(replay.headers.get('location'), null);
    });

    test('a scope added after the consent: prompt=none refused, the consent page asked again with the new data', async () => {
      const b = await signedIn(victim);
      const first = await authorize(b, t, service, victim, { scope: 'openid email' });
      assert.ok(first.end.searchParams.get('code'));
      const tokens = await oidc.authorizationCodeGrant(service.config, first.end, { pkceCodeVerifier: first.verifier, expectedState: first.state, expectedNonce: first.nonce });
      assert.equal((await oidc.fetchUserInfo(service.config, tokens.access_token, tokens.claims()?.sub ?? '')).given_name, undefined);
      // The same scopes again: remembered.
      assert.ok((await silent(b, victim, 'openid email')).searchParams.get('code'));
      // One more scope: not without the citizen.
      const more = await silent(b, victim, 'openid email identite_pivot');
      assert.equal(more.searchParams.get('code'), null);
      assert.equal(more.searchParams.get('error'), 'consent_required');
      const asked = await authorize(b, t, service, victim, { scope: 'openid email identite_pivot' });
      assert.equal(asked.consentPages.length, 1);
      assert.ok((asked.consentPages[0] ?? '').includes('vos prénoms'));
    });
  });
}
