import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startExampleClient } from '../../examples/relying-party.ts';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { freePort } from '../support/free-port.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { follow, HttpBrowser, listeningApp, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

/**
 * The example client of docs/integration.md (examples/relying-party.ts) works: a citizen
 * clicks "S'identifier avec Sésame" on the service, signs in on our pages, consents, and the
 * service greets them by name with the claims it received and the level it asked for.
 */
for (const backend of backends()) {
  describe(`the documented example client on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let rp: RelyingParty;
    let example: { url: string; close(): Promise<void> };
    let c: Citizen;

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb));
      const port = await freePort();
      const redirectUri = `http://127.0.0.1:${port}/callback`;
      rp = await relyingParty(t, base, { name: 'Service d’exemple', redirectUri, postLogoutRedirectUris: [`http://127.0.0.1:${port}/`], scopes: 'openid identite_pivot email' });
      const secret = rp.config.clientMetadata().client_secret;
      assert.equal(typeof secret, 'string');
      example = await startExampleClient({ issuer: new URL(base), clientId: rp.clientId, clientSecret: String(secret), redirectUri, postLogoutRedirectUri: `http://127.0.0.1:${port}/`, scope: 'openid identite_pivot email', acrValues: 'eidas1', port, allowHttp: true });
      c = await citizenWithPassword(t);
    });
    after(async () => {
      await example?.close();
      await t.close();
      await tdb.close();
    });

    test('sign in from the service: back on the service, greeted by name, with the claims and the level', async () => {
      const service = new HttpBrowser(example.url);
      const sesame = new HttpBrowser(base);
      assert.match(await (await service.get('/')).text(), /S’identifier avec Sésame/);
      const start = await service.get('/login');
      assert.equal(start.status, 303);
      const authorization = new URL(start.headers.get('location') ?? '');
      assert.equal(authorization.origin, base);
      assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(authorization.searchParams.get('acr_values'), 'eidas1');
      const { end, consentPages } = await follow(sesame, t, rp, c, await sesame.get(authorization.href));
      assert.equal(consentPages.length, 1);
      const back = await service.get(end.href);
      assert.equal(back.status, 303, await back.text());
      const home = await (await service.get('/')).text();
      assert.match(home, new RegExp(`Bonjour ${c.givenNames}`));
      assert.match(home, /<p id="acr">eidas1<\/p>/);
      assert.match(home, new RegExp(`<td id="claim-family_name">${c.familyName}</td>`));
      assert.match(home, new RegExp(`<td id="claim-email">${c.email.replace(/[.+]/g, '\\$&')}</td>`));

      // Logging out of the service: Sésame's confirmation page, then back to the service, signed out of both.
      assert.equal((await service.get('/logout')).status, 404, 'no logout by a link');
      assert.equal((await service.request('/logout', { method: 'POST', body: 'csrf=forged', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).headers.get('location'), '/', 'nor by a forged form');
      const csrf = /<input type="hidden" name="csrf" value="([^"]+)">/.exec(home)?.[1] ?? '';
      const out = await service.request('/logout', { method: 'POST', body: new URLSearchParams({ csrf }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(out.status, 303);
      const endSession = new URL(out.headers.get('location') ?? '');
      assert.equal(`${endSession.origin}${endSession.pathname}`, `${base}/oidc/session/end`);
      const confirm = await sesame.get(endSession.href);
      assert.equal(confirm.status, 200);
      const form = /<form method="post" action="([^"]+)" id="op-logout">\s*<input type="hidden" name="xsrf" value="([^"]*)">/.exec(await confirm.text());
      assert.ok(form, 'the confirmation form');
      const done = await sesame.request(new URL(form[1] ?? '', base).href, { method: 'POST', body: new URLSearchParams({ xsrf: form[2] ?? '', logout: 'yes' }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(done.status, 303);
      const landing = new URL(done.headers.get('location') ?? '');
      assert.equal(`${landing.origin}${landing.pathname}`, `${example.url}/`);
      assert.match(await (await service.get(landing.href)).text(), /S’identifier avec Sésame/);
      assert.equal((await sesame.get('/account')).status, 303, 'signed out of Sésame too');
    });

    test('a callback replayed in another browser, or twice, gets nothing', async () => {
      const service = new HttpBrowser(example.url);
      const sesame = new HttpBrowser(base);
      const start = await service.get('/login');
      const { end } = await follow(sesame, t, rp, c, await sesame.get(start.headers.get('location') ?? ''));
      const elsewhere = await new HttpBrowser(example.url).get(end.href);
      assert.equal(elsewhere.status, 400, 'no login pending in that browser');
      assert.equal((await service.get(end.href)).status, 303);
      assert.equal((await service.get(end.href)).status, 400, 'the pending login is used once');
    });
  });
}
