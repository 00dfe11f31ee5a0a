import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { onEachBackendListening } from '../support/suites.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, relyingParty, type AuthorizationAttempt, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * `prompt=login` and `max_age`: a service that asks for a fresh authentication gets one, never
 * the SSO of an older session — openid-client itself rejects an ID token whose auth_time is
 * older than the max_age it sent, so answering with the old session would fail the sign-in.
 */
onEachBackendListening('re-authentication asked by a service', (s) => {
  const { t } = s;
  let rp: RelyingParty;
  let c: Citizen;

  before(async () => {
    rp = await relyingParty(t, s.base, { name: 'Impôts', redirectUri: 'http://localhost:4003/callback', scopes: 'openid' });
    c = await citizenWithPassword(t);
  });

  const exchange = async (a: AuthorizationAttempt, maxAge?: number): Promise<oidc.IDToken> => {
    const tokens = await oidc.authorizationCodeGrant(rp.config, a.end, { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce, ...(maxAge === undefined ? {} : { maxAge }) });
    const claims = tokens.claims();
    assert.ok(claims);
    return claims;
  };
  const session = (b: HttpBrowser): string | undefined => b.jar.get('__Host-sesame-session');

  test('prompt=login: a new login (password and mailed code), a new session, a newer auth_time', async () => {
    t.clock.set(new Date());
    const b = new HttpBrowser(s.base);
    const first = await exchange(await authorize(b, t, rp, c, { scope: 'openid' }));
    const before = session(b);
    assert.ok(before);
    // Without prompt=login: SSO, same session, same auth_time.
    const sso = await exchange(await authorize(b, t, rp, c, { scope: 'openid' }));
    assert.equal(sso.auth_time, first.auth_time);
    assert.equal(session(b), before);
    // The interaction's start must come after the first login on the provider's clock (seconds).
    await new Promise((resolve) => setTimeout(resolve, 2100));
    t.clock.set(new Date());
    const again = await exchange(await authorize(b, t, rp, c, { scope: 'openid', params: { prompt: 'login' } }));
    assert.ok((again.auth_time ?? 0) > (first.auth_time ?? 0), 'authenticated again');
    assert.notEqual(session(b), before, 'a new session');
    const stale = new HttpBrowser(s.base);
    stale.jar.set('__Host-sesame-session', before);
    assert.equal((await stale.get('/account')).status, 303, 'the old session ended with the new login');
    assert.equal(again.sub, first.sub);
  });

  test('a link asking prompt=login logs nobody out: the old session lives until the new login replaces it', async () => {
    t.clock.set(new Date());
    const b = new HttpBrowser(s.base);
    await exchange(await authorize(b, t, rp, c, { scope: 'openid' }));
    const before = session(b);
    // Past the login's second on the provider's clock (each page login advances ours a second).
    await new Promise((resolve) => setTimeout(resolve, 2100));
    t.clock.set(new Date());
    const stopped = await authorize(b, t, rp, c, { scope: 'openid', params: { prompt: 'login' }, stopAt: /^\/login$/ });
    assert.equal(stopped.end.pathname, '/login');
    assert.equal(stopped.end.search, '?service=1');
    assert.equal(session(b), before);
    assert.equal((await b.get('/account')).status, 200, 'still signed in');
    // The login page is shown although signed in, and the new login ends the old session.
    await b.get('/login?service=1');
    assert.match(b.lastPage, /name="nir"/);
  });

  test('max_age: within it, SSO; beyond it, a new login that openid-client accepts', async () => {
    // Our clock (sessions' auth_time) on the provider's (Date): each page login advances ours a second.
    t.clock.set(new Date());
    const b = new HttpBrowser(s.base);
    const first = await exchange(await authorize(b, t, rp, c, { scope: 'openid' }));
    const within = await exchange(await authorize(b, t, rp, c, { scope: 'openid', params: { max_age: '3600' } }), 3600);
    assert.equal(within.auth_time, first.auth_time);
    await new Promise((resolve) => setTimeout(resolve, 3100));
    t.clock.set(new Date());
    const beyond = await exchange(await authorize(b, t, rp, c, { scope: 'openid', params: { max_age: '1' } }), 1);
    assert.ok((beyond.auth_time ?? 0) > (first.auth_time ?? 0));
  });
});
