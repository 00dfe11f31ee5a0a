import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { checkPage as check, openPage } from '../support/browser.ts';
import { chromiumAppWithMail, logInWithMailedCode } from '../support/e2e.ts';
import { citizenWithPassword, pastCoolingOff, type Citizen } from '../support/login.ts';
import { relyingParty, type RelyingParty } from '../support/oidc-rp.ts';
import { requirement } from '../support/requirements.ts';
import { codeIn } from '../support/smtp-inbox.ts';

/** What the service's callback received: the URL (GET) or the URL and the posted form (form_post). */
interface Callback {
  method: string;
  url: URL;
  form: URLSearchParams | null;
}

/**
 * A relying party's web server, as small as it gets: it records every request to its
 * callback and logout pages and answers a plain page (the test does the service's back-channel
 * work with openid-client). Listening on localhost: redirect URIs may be http only there.
 */
async function serviceSite(): Promise<{ origin: string; received: Callback[]; next(path: string): Promise<Callback>; close(): Promise<void> }> {
  const received: Callback[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin);
      if (url.pathname !== '/favicon.ico') received.push({ method: req.method ?? 'GET', url, form: req.method === 'POST' ? new URLSearchParams(Buffer.concat(chunks).toString('utf8')) : null });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html lang="fr"><head><title>Service</title></head><body><main><h1>Service</h1></main></body></html>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  let taken = 0;
  return {
    origin,
    received,
    /** The next request to `path`, waiting for it. */
    async next(path) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const index = received.findIndex((r, i) => i >= taken && r.url.pathname === path);
        if (index >= 0) {
          taken = index + 1;
          return received[index] as Callback;
        }
        if (Date.now() > deadline) throw new Error(`the service received nothing at ${path}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An authorization request as the service builds it: code + PKCE S256, state, nonce. */
async function authorizationRequest(rp: RelyingParty, scope: string, params: Record<string, string> = {}): Promise<{ url: URL; verifier: string; state: string; nonce: string }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp.config, { redirect_uri: rp.redirectUri, scope, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce, ...params });
  return { url, verifier, state, nonce };
}

/**
 * A service signing citizens in through Sésame, in Chromium: openid-client builds the requests
 * and does the back channel (discovery, token exchange with the ID token checked — signature
 * against our JWKS, iss, aud, nonce —, userinfo, end session URL); Chromium goes through our
 * pages (login with the code read from a real SMTP server, step-up with a passkey on the
 * DevTools virtual authenticator, consent, logout). Chromium enforces CSP form-action on the
 * whole redirect chain of a form post: no CSP violation may appear on the way.
 */
describe('OpenID Connect sign-in through Sésame in Chromium', requirement('chromium'), () => {
  const app = chromiumAppWithMail({ host: 'localhost' });
  let site: Awaited<ReturnType<typeof serviceSite>>;
  let training: RelyingParty;
  let tax: RelyingParty;

  before(async () => {
    // The provider reads Date: our sessions' auth_time must be on the same time line.
    app.t.clock.set(new Date());
    site = await serviceSite();
    training = await relyingParty(app.t, app.base, {
      name: 'Mon compte formation',
      redirectUri: `${site.origin}/training/callback`,
      scopes: 'openid identite_pivot email',
      postLogoutRedirectUris: [`${site.origin}/training/logged-out`],
    });
    tax = await relyingParty(app.t, app.base, { name: 'Impôts', redirectUri: `${site.origin}/tax/callback`, scopes: 'openid identite_pivot' });
  });
  after(async () => {
    await site.close();
  });

  const LOGIN_BUTTONS = {
    fr: { signIn: 'main form button[type="submit"]:has-text("Se connecter")', send: 'button:has-text("Envoyer le code")', confirm: 'button:has-text("Valider")' },
    en: { signIn: 'main form button[type="submit"]:has-text("Sign in")', send: 'button:has-text("Send the code")', confirm: 'main form button[type="submit"]:has-text("Confirm")' },
  } as const;

  /** Password, then the code from the mail: from /login to wherever the login sends the browser. */
  async function logInThroughPages(page: Page, c: Citizen, locale: keyof typeof LOGIN_BUTTONS = 'fr'): Promise<void> {
    const buttons = LOGIN_BUTTONS[locale];
    // /login, marked as a sign-in for a service (src/oidc/return-to.ts OIDC_LOGIN_PATH).
    await page.waitForURL(/\/login(\?service=1)?$/);
    await page.fill('#nir', c.nir);
    await page.fill('#password', c.password);
    await page.click(buttons.signIn);
    await page.click(buttons.send);
    await page.waitForSelector('#code');
    await page.fill('#code', codeIn(await app.inbox.next(c.email, /code/i)));
    await page.click(buttons.confirm);
  }

  /**
   * The service's next request at `path`, once Chromium has loaded the answer too: moving on
   * when only the server has seen the request aborts the page's load (a failed load).
   */
  async function arrived(page: Page, path: string): Promise<Callback> {
    const received = await site.next(path);
    await page.waitForURL((url) => url.origin === site.origin && url.pathname === path);
    return received;
  }

  /** The main document's navigations, in order (to see the way back to the service). */
  function navigations(page: Page): string[] {
    const urls: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) urls.push(new URL(frame.url()).pathname);
    });
    return urls;
  }

  test('eidas1: login with the mailed code, consent, validated ID token and userinfo; again after logging out of Sésame (form post ending at the service); RP-initiated logout ends the Sésame session', async () => {
    const c = await citizenWithPassword(app.t);
    const { context, page, problems } = await openPage(app.browser, { locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
    try {
      const first = await authorizationRequest(training, 'openid identite_pivot email');
      await page.goto(first.url.href);
      await logInThroughPages(page, c);
      await page.waitForSelector('#claims');
      assert.match((await page.textContent('main')) ?? '', /Mon compte formation/);
      await check(page, 'oidc-consent');
      await page.click('button:has-text("Autoriser et continuer")');
      const callback = await arrived(page, '/training/callback');
      assert.equal(callback.url.searchParams.get('state'), first.state);
      assert.equal(callback.url.searchParams.get('iss'), app.base, 'RFC 9207: the issuer in the response');
      const tokens = await oidc.authorizationCodeGrant(training.config, callback.url, { pkceCodeVerifier: first.verifier, expectedState: first.state, expectedNonce: first.nonce, idTokenExpected: true });
      const claims = tokens.claims();
      assert.ok(claims);
      assert.equal(claims.iss, app.base);
      assert.equal(claims.aud, training.clientId);
      assert.equal(claims.acr, 'eidas1');
      assert.deepEqual([...((claims.amr as string[] | undefined) ?? [])].sort(), ['mail', 'pwd']);
      const info = await oidc.fetchUserInfo(training.config, tokens.access_token, claims.sub);
      assert.equal(info.given_name, c.givenNames);
      assert.equal(info.family_name, c.familyName);
      assert.equal(info.email, c.email);
      const idToken = tokens.id_token ?? '';

      // Logged out of Sésame, the citizen signs in to the service again: consent is remembered,
      // so the code form's post ends, through redirects, at the service. Chromium would block
      // that chain under `form-action 'self'`: the login lands on our "back to the service" page
      // first, whose meta refresh is a new navigation.
      await page.goto(`${app.base}/account`);
      await page.click('button:has-text("Se déconnecter")');
      await page.waitForURL(/\/login\?done=logged-out$/);
      const seen = navigations(page);
      const second = await authorizationRequest(training, 'openid identite_pivot email');
      await page.goto(second.url.href);
      await logInThroughPages(page, c);
      const again = await arrived(page, '/training/callback');
      assert.ok(seen.some((p) => p.startsWith('/oidc/continue/')), `through the back-to-service page: ${seen.join(' ')}`);
      assert.equal(seen.includes('/oidc/interaction'), false);
      const tokens2 = await oidc.authorizationCodeGrant(training.config, again.url, { pkceCodeVerifier: second.verifier, expectedState: second.state, expectedNonce: second.nonce, idTokenExpected: true });
      assert.equal(tokens2.claims()?.sub, claims.sub);

      // RP-initiated logout: our page, confirming signs out of Sésame too and goes back to the
      // registered post_logout_redirect_uri with the state.
      const logoutState = oidc.randomState();
      const end = oidc.buildEndSessionUrl(training.config, { id_token_hint: tokens2.id_token ?? idToken, post_logout_redirect_uri: `${site.origin}/training/logged-out`, state: logoutState });
      await page.goto(end.href);
      await page.waitForSelector('#logout-confirm');
      assert.match((await page.textContent('main')) ?? '', /Mon compte formation/);
      await check(page, 'oidc-logout');
      await page.click('#logout-confirm');
      const loggedOut = await arrived(page, '/training/logged-out');
      assert.equal(loggedOut.url.searchParams.get('state'), logoutState);
      await page.waitForURL(`${site.origin}/training/logged-out?state=${logoutState}`);
      await page.goto(`${app.base}/account`);
      await page.waitForURL(`${app.base}/login`);
      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });

  test('eidas2: a passkey step-up inside the interaction, then form_post back to the service', async () => {
    const c = await citizenWithPassword(app.t);
    const { context, page, problems } = await openPage(app.browser, { locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
    try {
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      // The passkey, enrolled as the passkey e2e test does, then past its cooling-off.
      await logInWithMailedCode(page, app, c);
      await page.goto(`${app.base}/account/security/passkeys/new`);
      await page.waitForSelector('#name', { state: 'visible' });
      await page.fill('#name', 'Ordinateur portable');
      await page.click('button[data-passkey-start]');
      await page.waitForURL(`${app.base}/account/security`);
      await pastCoolingOff(app.t, c.accountId);
      await page.goto(`${app.base}/account`);
      await page.click('button:has-text("Se déconnecter")');
      await page.waitForURL(/\/login\?done=logged-out$/);

      // The service asks eidas2: password + code (eidas1), then the step-up by passkey.
      const req = await authorizationRequest(tax, 'openid identite_pivot', { acr_values: 'eidas2' });
      await page.goto(req.url.href);
      await logInThroughPages(page, c);
      await page.waitForURL(/\/step-up\/[^/]+$/);
      await page.waitForSelector('button[data-passkey-start]', { state: 'visible' });
      await check(page, 'oidc-step-up');
      await page.click('button[data-passkey-start]');
      await page.waitForSelector('#claims');
      assert.match((await page.textContent('main')) ?? '', /Impôts/);
      await page.click('button:has-text("Autoriser et continuer")');
      const callback = await arrived(page, '/tax/callback');
      const tokens = await oidc.authorizationCodeGrant(tax.config, callback.url, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true });
      const claims = tokens.claims();
      assert.ok(claims);
      assert.equal(claims.acr, 'eidas2');
      assert.ok(((claims.amr as string[] | undefined) ?? []).includes('hwk'), `amr names the passkey: ${String(claims.amr)}`);

      // response_mode=form_post: our page posts the answer to the exact redirect_uri (its own
      // form-action), sent on by our script file; the service gets code, state and iss by POST.
      const posted = await authorizationRequest(tax, 'openid identite_pivot', { acr_values: 'eidas2', response_mode: 'form_post' });
      await page.goto(posted.url.href);
      const answer = await arrived(page, '/tax/callback');
      assert.equal(answer.method, 'POST');
      assert.ok(answer.form);
      assert.equal(answer.form.get('state'), posted.state);
      const request = new Request(tax.redirectUri, { method: 'POST', body: answer.form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      const postedTokens = await oidc.authorizationCodeGrant(tax.config, request, { pkceCodeVerifier: posted.verifier, expectedState: posted.state, expectedNonce: posted.nonce, idTokenExpected: true });
      assert.equal(postedTokens.claims()?.sub, claims.sub);
      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });

  test('form_post without JavaScript: the button sends the answer; the page is ours, in English too', async () => {
    const c = await citizenWithPassword(app.t);
    const context = await app.browser.newContext({ locale: 'en-GB', viewport: { width: 375, height: 740 }, javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      // Consent given beforehand with JavaScript off too: the whole flow works without it.
      const req = await authorizationRequest(training, 'openid', { response_mode: 'form_post' });
      await page.goto(req.url.href);
      await logInThroughPages(page, c, 'en');
      // Without JavaScript the meta refresh still runs; then the consent page.
      await page.waitForSelector('#claims');
      await page.click('button:has-text("Allow and continue")');
      await page.waitForSelector('#form-post-continue');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.equal(await page.getAttribute('form[data-oidc-form-post]', 'action'), training.redirectUri);
      await page.click('#form-post-continue');
      const answer = await arrived(page, '/training/callback');
      assert.equal(answer.method, 'POST');
      assert.equal(answer.form?.get('state'), req.state);
      assert.ok(answer.form?.get('code'));
    } finally {
      await context.close();
    }
  });

  test('RP-initiated logout without a post_logout_redirect_uri: staying signed in to Sésame; a forged confirmation (logout CSRF) ends nothing', async () => {
    const c = await citizenWithPassword(app.t);
    const { context, page, problems } = await openPage(app.browser, {
      locale: 'en-GB',
      viewport: { width: 375, height: 740 },
      // The forged confirmation, refused by the provider.
      allowStatus: (status, url) => status === 400 && url.endsWith('/oidc/session/end/confirm'),
    });
    try {
      const req = await authorizationRequest(training, 'openid');
      await page.goto(req.url.href);
      await logInThroughPages(page, c, 'en');
      await page.waitForSelector('#claims');
      await page.click('button:has-text("Allow and continue")');
      await arrived(page, '/training/callback');

      // Another site posts "log me out" to the confirmation, with the browser's cookies but
      // without the provider's xsrf token (bound to its session): refused, both sessions live.
      const forged = await context.request.post(`${app.base}/oidc/session/end/confirm`, { form: { logout: 'yes' }, maxRedirects: 0 });
      assert.equal(forged.status(), 400);
      await page.goto(`${app.base}/account`);
      await page.waitForURL(`${app.base}/account`);

      const end = oidc.buildEndSessionUrl(training.config, { client_id: training.clientId });
      await page.goto(end.href);
      await page.waitForSelector('#logout-stay');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.match((await page.textContent('main')) ?? '', /Mon compte formation/);
      await page.click('#logout-stay');
      await page.waitForURL(/\/oidc\/session\/end\/success/);
      assert.match((await page.textContent('main')) ?? '', /still signed in/);
      await check(page, 'oidc-logout-success');
      await page.goto(`${app.base}/account`);
      await page.waitForURL(`${app.base}/account`);
      assert.deepEqual(problems, [], 'no CSP violation, script error or failed load');
    } finally {
      await context.close();
    }
  });
});
