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
      rp = await relyingParty(t, base, { name: 'Service d’exemple', redirectUri, scopes: 'openid identite_pivot email' });
      const secret = rp.config.clientMetadata().client_secret;
      assert.equal(typeof secret, 'string');
      example = await startExampleClient({ issuer: new URL(base), clientId: rp.clientId, clientSecret: String(secret), redirectUri, scope: 'openid identite_pivot email', acrValues: 'eidas1', port, allowHttp: true });
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
