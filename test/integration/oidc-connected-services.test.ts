import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { system } from '../../src/db/contexts.ts';
import { createOidcStore } from '../../src/oidc/adapter.ts';
import { revokeGrant } from '../../src/oidc/connected-services.ts';
import type { TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { authorize, HttpBrowser, listeningApp, logInThroughPages, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';

interface AuditRow extends Record<string, unknown> {
  type: string;
  account_id: string | null;
  actor: string;
  payload: Record<string, unknown>;
}

/** The audit events of these types, oldest first, once `count` of them exist (the provider's are written in the background). */
async function auditEvents(t: TestApp, types: string[], o: { after?: number; count?: number } = {}): Promise<(AuditRow & { seq: number })[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const { rows } = await system(t.deps.db, 'test', (tx) =>
      tx.query<AuditRow & { seq: string }>(`SELECT seq, type, account_id, actor, payload FROM audit_log WHERE type = ANY($1) AND seq > $2 ORDER BY seq`, [types, o.after ?? 0]),
    );
    const found = rows.map((r) => ({ ...r, seq: Number(r.seq) }));
    if (found.length >= (o.count ?? 1) || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const lastSeq = async (t: TestApp): Promise<number> =>
  Number((await system(t.deps.db, 'test', (tx) => tx.query<{ seq: string | null }>(`SELECT max(seq) AS seq FROM audit_log`))).rows[0]?.seq ?? 0);

const liveSessionOf = async (t: TestApp, accountId: string): Promise<string[]> =>
  (await system(t.deps.db, 'test', (tx) => tx.query<{ id: string }>(`SELECT id FROM sessions WHERE account_id = $1 AND ended_at IS NULL ORDER BY created_at`, [accountId]))).rows.map((r) => r.id);

const consentRows = async (t: TestApp, accountId: string): Promise<{ client_id: string; grant_id: string; scopes: string[] }[]> =>
  (await system(t.deps.db, 'test', (tx) => tx.query<{ client_id: string; grant_id: string; scopes: string[] }>(`SELECT client_id, grant_id, scopes FROM oidc_consents WHERE account_id = $1 ORDER BY client_id`, [accountId]))).rows;

const userinfoStatus = async (base: string, accessToken: string): Promise<number> => (await fetch(`${base}/oidc/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;

/**
 * Connected services: the consent a citizen gives a service is remembered per account (a new
 * browser, an ended grant ask nothing), listed on /account/security with what the service
 * receives, and withdrawn there: the service's access token stops working at once and its next
 * sign-in asks consent again. The flow's audit events (authorised with our session's id,
 * consent, token issued with no token value, refusal, revocation, logout) and the login history
 * naming the service.
 */
for (const backend of backends()) {
  describe(`connected services and audit of the OpenID flow on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let training: RelyingParty;
    let tax: RelyingParty;
    let c: Citizen;
    let browser: HttpBrowser;
    let accessToken = '';

    const signIn = async (b: HttpBrowser, rp: RelyingParty, scope: string): Promise<{ consentPages: number; tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers }> => {
      const attempt = await authorize(b, t, rp, c, { scope });
      const tokens = await oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true });
      return { consentPages: attempt.consentPages.length, tokens };
    };

    before(async () => {
      tdb = await backend.open();
      ({ t, base } = await listeningApp(tdb));
      training = await relyingParty(t, base, { name: 'Mon compte formation', redirectUri: 'http://localhost:4001/callback', scopes: 'openid identite_pivot email' });
      tax = await relyingParty(t, base, { name: 'Impôts', redirectUri: 'http://localhost:4002/callback', scopes: 'openid email' });
      c = await citizenWithPassword(t);
      browser = new HttpBrowser(base);
    });
    after(async () => {
      await t?.close();
      await tdb?.close();
    });

    test('signing in records the consent and audits authorisation (with our session), consent and token issue, never a token', async () => {
      const from = await lastSeq(t);
      const { consentPages, tokens } = await signIn(browser, training, 'openid identite_pivot email');
      assert.equal(consentPages, 1);
      accessToken = tokens.access_token;
      assert.equal(await userinfoStatus(base, accessToken), 200);

      const rows = await consentRows(t, c.accountId);
      assert.deepEqual(rows.map((r) => [r.client_id, [...r.scopes].sort()]), [[training.clientId, ['email', 'identite_pivot', 'openid']]]);

      const [session] = await liveSessionOf(t, c.accountId);
      const events = await auditEvents(t, ['oidc.consent-given', 'oidc.authorized', 'oidc.token-issued'], { after: from, count: 3 });
      const byType = new Map(events.map((e) => [e.type, e]));
      assert.deepEqual(byType.get('oidc.consent-given')?.payload, { clientId: training.clientId, scopes: ['openid', 'identite_pivot', 'email'] });
      assert.equal(byType.get('oidc.consent-given')?.actor, `citizen:${c.accountId}`);
      const authorized = byType.get('oidc.authorized');
      assert.equal(authorized?.account_id, c.accountId);
      assert.deepEqual(authorized?.payload, { clientId: training.clientId, sessionId: session, acr: 'eidas1', scopes: ['openid', 'identite_pivot', 'email'] });
      const issued = byType.get('oidc.token-issued');
      assert.equal(issued?.account_id, c.accountId);
      assert.deepEqual(issued?.payload, { clientId: training.clientId, grantType: 'authorization_code', idToken: true, refreshToken: false });
      const all = JSON.stringify(events);
      for (const secret of [tokens.access_token, tokens.id_token ?? '-']) assert.equal(all.includes(secret), false, 'no token value in the audit log');
    });

    test('/account/security lists the service, what it receives in words, and a “Retirer l’accès” form; the login history names it', async () => {
      const res = await browser.get('/account/security');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('cache-control') ?? '', /no-store/);
      const page = browser.lastPage;
      const section = /<section[^>]*aria-labelledby="services-title">[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';
      assert.match(section, /Services connectés/);
      assert.match(section, /Mon compte formation/);
      for (const words of ['vos prénoms', 'votre nom de naissance', 'votre date de naissance', 'votre adresse électronique', 'un identifiant propre à ce service']) assert.ok(section.includes(words), words);
      assert.equal(section.includes('votre numéro de téléphone'), false);
      assert.match(section, new RegExp(`<form method="post" action="/account/security/connected-services/${training.clientId}/revoke">\\s*<input type="hidden" name="_csrf"`));
      assert.equal(section.includes('Impôts'), false, 'only the services consented to');
      const history = /<table[^>]*>[\s\S]*?<\/table>/.exec(page.slice(page.indexOf('id="history-title"')))?.[0] ?? '';
      assert.match(history, /<th[^>]*>Services<\/th>/);
      assert.match(history, /Mon compte formation/, 'the live session’s row names the service');

      const en = await browser.request('/account/security', { headers: { 'accept-language': 'en' } });
      assert.equal(en.status, 200);
      assert.match(browser.lastPage, /Connected services/);
      assert.match(browser.lastPage, /your email address/);
      assert.match(browser.lastPage, /Remove access/);
    });

    test('the consent is remembered per account: a new browser, or a grant that ended (logout, expiry), asks nothing', async () => {
      const other = new HttpBrowser(base);
      const fresh = await signIn(other, training, 'openid identite_pivot email');
      assert.equal(fresh.consentPages, 0, 'another browser: no consent page');
      // The grant behind the consent ends (as at logout or when it expires): made again from the record.
      const [row] = await consentRows(t, c.accountId);
      assert.ok(row);
      await revokeGrant(createOidcStore({ db: t.deps.db, ring: t.deps.ring, clock: t.clock }), row.grant_id);
      assert.equal(await userinfoStatus(base, fresh.tokens.access_token), 401, 'its tokens went with it');
      const again = await signIn(other, training, 'openid identite_pivot email');
      assert.equal(again.consentPages, 0, 'same consent, new grant');
      assert.equal(await userinfoStatus(base, again.tokens.access_token), 200);
      const [after] = await consentRows(t, c.accountId);
      assert.notEqual(after?.grant_id, row.grant_id, 'the record names the new grant');
      accessToken = again.tokens.access_token;
      // A scope the record does not hold is asked for.
      const more = await authorize(other, t, tax, c, { scope: 'openid' });
      assert.equal(more.consentPages.length, 1);
    });

    test('sign-ins racing to re-make an ended grant leave no unrecorded grant: one withdrawal ends every token they got', async () => {
      // Four signed-in browsers (one after the other: the mailed codes are read from one outbox).
      const browsers = [new HttpBrowser(base), new HttpBrowser(base), new HttpBrowser(base), new HttpBrowser(base)];
      for (const b of browsers) await logInThroughPages(b, t, c);
      const row = (await consentRows(t, c.accountId)).find((r) => r.client_id === training.clientId);
      assert.ok(row);
      await revokeGrant(createOidcStore({ db: t.deps.db, ring: t.deps.ring, clock: t.clock }), row.grant_id);
      // At once, each re-making the ended grant from the record.
      const raced = await Promise.all(browsers.map((b) => signIn(b, training, 'openid identite_pivot email')));
      assert.deepEqual(raced.map((r) => r.consentPages), [0, 0, 0, 0]);
      const recorded = (await consentRows(t, c.accountId)).find((r) => r.client_id === training.clientId);
      assert.ok(recorded && recorded.grant_id !== row.grant_id, 'the record names a new grant');
      const live = await Promise.all(raced.map((r) => userinfoStatus(base, r.tokens.access_token)));
      // Tokens of a losing re-made grant died with it at once, or are of the recorded grant.
      assert.ok(live.includes(200), `some token lives: ${live.join(' ')}`);
      const other = new HttpBrowser(base);
      await logInThroughPages(other, t, c);
      await other.get('/account/security');
      assert.equal((await other.post(`/account/security/connected-services/${training.clientId}/revoke`, {})).status, 303);
      assert.deepEqual(await Promise.all(raced.map((r) => userinfoStatus(base, r.tokens.access_token))), [401, 401, 401, 401], 'no token survives the withdrawal');
      // Consent given again for the next tests.
      const back = await signIn(browser, training, 'openid identite_pivot email');
      assert.equal(back.consentPages, 1);
      accessToken = back.tokens.access_token;
    });

    test('“Retirer l’accès”: the access token stops working at once, the service is no longer listed, the next sign-in asks consent again', async () => {
      const from = await lastSeq(t);
      assert.equal(await userinfoStatus(base, accessToken), 200);
      await browser.get('/account/security');
      const res = await browser.post(`/account/security/connected-services/${training.clientId}/revoke`, {});
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/account/security?done=service-revoked');
      assert.equal(await userinfoStatus(base, accessToken), 401, 'the service’s access token is revoked');
      assert.deepEqual((await consentRows(t, c.accountId)).map((r) => r.client_id), [tax.clientId]);

      await browser.get('/account/security?done=service-revoked');
      const section = /<section[^>]*aria-labelledby="services-title">[\s\S]*?<\/section>/.exec(browser.lastPage)?.[0] ?? '';
      assert.equal(section.includes('Mon compte formation'), false);
      assert.match(browser.lastPage, /L’accès du service a été retiré/);

      const [revoked] = await auditEvents(t, ['oidc.consent-revoked'], { after: from });
      assert.equal(revoked?.account_id, c.accountId);
      assert.deepEqual(revoked?.payload, { clientId: training.clientId, via: 'account' });

      // The same browser (its provider session still names the old grant): consent again.
      const next = await signIn(browser, training, 'openid identite_pivot email');
      assert.equal(next.consentPages, 1, 'consent asked again');
      assert.equal(await userinfoStatus(base, next.tokens.access_token), 200);
      // Withdrawing what is not there (again, or never given): 404.
      await browser.get('/account/security');
      assert.equal((await browser.post(`/account/security/connected-services/${'x'.repeat(20)}/revoke`, {})).status, 404);
    });

    test('refusing on the consent page: access_denied to the service, audited as consent refused and authorisation refused', async () => {
      const from = await lastSeq(t);
      const other = await relyingParty(t, base, { name: 'Caisse', redirectUri: 'http://localhost:4003/callback', scopes: 'openid' });
      const attempt = await authorize(browser, t, other, c, { scope: 'openid', stopAt: /\/oidc\/interaction\// });
      const page = await browser.get(attempt.end.href);
      assert.equal(page.status, 200);
      const abort = /<form method="post" action="([^"]+\/abort)">/.exec(browser.lastPage)?.[1];
      assert.ok(abort);
      let res = await browser.post(abort, {});
      for (let i = 0; i < 5 && res.status === 303; i++) {
        const next = new URL(res.headers.get('location') ?? '', base);
        if (next.href.startsWith(other.redirectUri)) {
          assert.equal(next.searchParams.get('error'), 'access_denied');
          break;
        }
        res = await browser.get(next.href);
      }
      const events = await auditEvents(t, ['oidc.consent-refused', 'oidc.authorization-refused'], { after: from, count: 2 });
      assert.deepEqual(
        events.map((e) => [e.type, e.account_id, e.payload]),
        [
          ['oidc.consent-refused', c.accountId, { clientId: other.clientId }],
          ['oidc.authorization-refused', c.accountId, { clientId: other.clientId, error: 'access_denied' }],
        ],
      );
      assert.equal((await consentRows(t, c.accountId)).some((r) => r.client_id === other.clientId), false);
    });

    test('token revocation by the service is audited (kind, never the value)', async () => {
      const from = await lastSeq(t);
      const { tokens } = await signIn(browser, tax, 'openid');
      await oidc.tokenRevocation(tax.config, tokens.access_token);
      assert.equal(await userinfoStatus(base, tokens.access_token), 401);
      const [revoked] = await auditEvents(t, ['oidc.token-revoked'], { after: from });
      assert.equal(revoked?.account_id, c.accountId);
      assert.deepEqual(revoked?.payload, { clientId: tax.clientId, kind: 'AccessToken' });
    });

    test('a machine client’s client-credentials grant is audited with no account and no token', async () => {
      const from = await lastSeq(t);
      const machine = await relyingParty(t, base, { name: 'Batch CAF', redirectUri: 'http://localhost:4009/callback', scopes: 'openid', clientCredentials: true });
      const tokens = await oidc.clientCredentialsGrant(machine.config, {});
      const [issued] = await auditEvents(t, ['oidc.token-issued'], { after: from });
      assert.equal(issued?.account_id, null);
      assert.deepEqual(issued?.payload, { clientId: machine.clientId, grantType: 'client_credentials', idToken: false, refreshToken: false });
      assert.equal(JSON.stringify(issued).includes(tokens.access_token), false);
    });

    test('RP-initiated logout is audited with the service and our session', async () => {
      const other = new HttpBrowser(base);
      const { tokens } = await signIn(other, tax, 'openid');
      const sessions = await liveSessionOf(t, c.accountId);
      const from = await lastSeq(t);
      const url = oidc.buildEndSessionUrl(tax.config, { id_token_hint: tokens.id_token ?? '' });
      const page = await other.get(url.href);
      assert.equal(page.status, 200);
      const action = /<form method="post" action="([^"]+)"/.exec(other.lastPage)?.[1];
      const xsrf = /name="xsrf" value="([^"]*)"/.exec(other.lastPage)?.[1];
      assert.ok(action && xsrf !== undefined);
      const body = new URLSearchParams({ xsrf, logout: 'yes' }).toString();
      const res = await other.request(action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.ok(res.status === 303 || res.status === 302, String(res.status));
      const [logout] = await auditEvents(t, ['oidc.logout'], { after: from });
      assert.equal(logout?.account_id, c.accountId);
      assert.equal(logout?.payload.clientId, tax.clientId);
      assert.ok(typeof logout?.payload.sessionId === 'string' && sessions.includes(logout.payload.sessionId), 'the Sésame session of that browser');
    });
  });
}
