import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { onEachBackendListening } from '../support/suites.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * A citizen who changes their mind on our login or step-up page during a service's sign-in is
 * sent back to the service with access_denied (and its state), rather than to their Sésame
 * account with the service left waiting.
 */
onEachBackendListening("giving up a service's sign-in", (s) => {
  const { t } = s;
  let rp: RelyingParty;
  let strict: RelyingParty;
  let c: Citizen;

  before(async () => {
    rp = await relyingParty(t, s.base, { name: 'Mon compte formation', redirectUri: 'http://localhost:4021/callback', scopes: 'openid' });
    strict = await relyingParty(t, s.base, { name: 'Caisse des allocations', redirectUri: 'http://localhost:4022/callback', scopes: 'openid', acrMin: 'eidas2' });
    c = await citizenWithPassword(t);
  });

  /** Opens the cancel page from `page`'s link, confirms, and returns where the browser ends. */
  async function cancelFrom(b: HttpBrowser, pageHtml: string): Promise<URL> {
    const link = /<a class="fr-link[^"]*" href="(\/oidc\/interaction\/[A-Za-z0-9_-]+\/cancel)">Annuler et revenir au service<\/a>/.exec(pageHtml)?.[1];
    assert.ok(link, 'a link back to the service');
    const confirm = await b.get(link);
    assert.equal(confirm.status, 200);
    assert.match(b.lastPage, /Vous ne vous connecterez pas à « /);
    assert.match(confirm.headers.get('cache-control') ?? '', /no-store/);
    let res = await b.post(/<form method="post" action="([^"]+\/abort)">/.exec(b.lastPage)?.[1] ?? '', {});
    for (let hops = 0; hops < 5 && res.status === 303; hops++) {
      const next = new URL(res.headers.get('location') ?? '', s.base);
      if (next.origin !== s.base) return next;
      res = await b.get(next.href);
    }
    assert.fail(`did not reach the service (${res.status})`);
  }

  test('from the login page: the service gets access_denied with its state, and iss', async () => {
    const b = new HttpBrowser(s.base);
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(rp.config, { redirect_uri: rp.redirectUri, scope: 'openid', state, code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const first = await b.get(url.href);
    const interaction = await b.get(new URL(first.headers.get('location') ?? '', s.base).href);
    assert.equal(interaction.headers.get('location'), '/login?service=1');
    await b.get('/login?service=1');
    const back = await cancelFrom(b, b.lastPage);
    assert.equal(`${back.origin}${back.pathname}`, rp.redirectUri);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), state);
    assert.equal(back.searchParams.get('iss'), s.base);
  });

  test('from the step-up page a service asked for: back to the service, the Sésame session kept', async () => {
    const b = new HttpBrowser(s.base);
    const attempt = await authorize(b, t, strict, c, { scope: 'openid', stopAt: /^\/step-up\// });
    const stepUp = await b.get(attempt.end.href);
    assert.equal(stepUp.status, 200);
    const back = await cancelFrom(b, b.lastPage);
    assert.equal(`${back.origin}${back.pathname}`, strict.redirectUri);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), attempt.state);
    assert.equal((await b.get('/account')).status, 200, 'still signed in to Sésame');
  });

  test('a login page opened on its own, and a step-up of Sésame itself, keep their usual links', async () => {
    const b = new HttpBrowser(s.base);
    await b.get('/login');
    assert.equal(b.lastPage.includes('/cancel"'), false);
    assert.equal(b.lastPage.includes('Annuler et revenir au service'), false);
  });

  test("another browser cannot open or confirm this sign-in's cancel page", async () => {
    const b = new HttpBrowser(s.base);
    const url = oidc.buildAuthorizationUrl(rp.config, { redirect_uri: rp.redirectUri, scope: 'openid', state: 's', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const first = await b.get(url.href);
    const uid = /\/oidc\/interaction\/([A-Za-z0-9_-]+)/.exec(first.headers.get('location') ?? '')?.[1];
    assert.ok(uid);
    const other = new HttpBrowser(s.base);
    assert.equal((await other.get(`/oidc/interaction/${uid}/cancel`)).status, 400);
  });
});
