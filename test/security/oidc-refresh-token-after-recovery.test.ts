import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { system } from '../../src/db/contexts.ts';
import { recover } from '../support/flows.ts';
import { Browser, citizenWithPassword, logIn, type Citizen } from '../support/login.ts';
import { auditSeq, auditSince } from '../support/rules-db.ts';
import { authorize, HttpBrowser, relyingParty, type RelyingParty } from '../support/oidc-rp.ts';
import { onEachBackendListening } from '../support/suites.ts';

/**
 * Whoever phished the password signs in to a service allowed refresh tokens. The owner then
 * resets the password (or changes it from another session): every Sésame session ends, and
 * what the service was given must end with them — the refresh token and the access token stop
 * working at once. Before, the provider's session, grant and tokens outlived the recovery and
 * the service kept getting fresh tokens and the citizen's data for hours. The consent stays:
 * the owner's next sign-in to that service asks nothing again.
 */
onEachBackendListening('oidc: tokens given to a service end with the account’s sessions', (suite) => {
  const { t } = suite;
  let port = 4400;

  async function thiefSignedIn(c: Citizen): Promise<{ rp: RelyingParty; tokens: oidc.TokenEndpointResponse }> {
    const rp = await relyingParty(t, suite.base, { name: 'Impôts', redirectUri: `http://localhost:${++port}/callback`, scopes: 'openid', refreshTokens: true });
    const thief = new HttpBrowser(suite.base);
    const attempt = await authorize(thief, t, rp, c, { scope: 'openid' });
    const tokens = await oidc.authorizationCodeGrant(rp.config, attempt.end, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, expectedNonce: attempt.nonce, idTokenExpected: true });
    assert.ok(tokens.refresh_token, 'the service holds a refresh token');
    // Still working before the owner acts: the refresh and the userinfo it gives.
    const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token);
    assert.equal((await userinfo(refreshed.access_token)).status, 200);
    return { rp, tokens: refreshed };
  }

  const userinfo = (accessToken: string): Promise<Response> => fetch(`${suite.base}/oidc/me`, { headers: { authorization: `Bearer ${accessToken}` } });

  async function assertEnded(rp: RelyingParty, tokens: oidc.TokenEndpointResponse, accountId: string): Promise<void> {
    await assert.rejects(oidc.refreshTokenGrant(rp.config, tokens.refresh_token ?? ''), (err: Error & { error?: string }) => err.error === 'invalid_grant');
    assert.equal((await userinfo(tokens.access_token)).status, 401, 'the access token is dead too');
    const left = await system(t.deps.db, 'test', async (tx) => (await tx.query(`SELECT model FROM oidc_payloads WHERE account_id = $1`, [accountId])).rows);
    assert.deepEqual(left, [], 'no provider session, grant or token of the account is left');
  }

  test('a recovery ends the refresh and access tokens of a sign-in made with the old password; the consent stays', async () => {
    const c = await citizenWithPassword(t);
    const { rp, tokens } = await thiefSignedIn(c);
    const since = await auditSeq(t.deps.db);
    const owner = new Browser(t);
    owner.ip = '198.51.100.200';
    const password = 'the owner’s recovered passphrase';
    await recover(owner, c, password);
    await assertEnded(rp, tokens, c.accountId);
    const ended = (await auditSince(t.deps.db, since)).filter((e) => e.type === 'sessions.ended');
    assert.equal(ended.length, 1);
    assert.ok(Number(ended[0]?.payload.serviceRows) >= 3, 'the provider rows ended are counted in the audit event');

    // The owner signs in to the service afterwards: no consent page (the record stayed), a working token.
    const again = await authorize(new HttpBrowser(suite.base), t, rp, { ...c, password }, { scope: 'openid' });
    assert.equal(again.consentPages.length, 0);
    const fresh = await oidc.authorizationCodeGrant(rp.config, again.end, { pkceCodeVerifier: again.verifier, expectedState: again.state, expectedNonce: again.nonce, idTokenExpected: true });
    assert.equal((await userinfo(fresh.access_token)).status, 200);
  });

  test('a change of password from another session ends them too', async () => {
    const c = await citizenWithPassword(t);
    const { rp, tokens } = await thiefSignedIn(c);
    const owner = new Browser(t);
    owner.ip = '198.51.100.201';
    await logIn(owner, c);
    await owner.get('/account/security');
    const fresh = 'a changed passphrase for sure';
    assert.equal((await owner.post('/account/security/password', { method: 'password', current: c.password, password: fresh, confirm: fresh })).statusCode, 303);
    await assertEnded(rp, tokens, c.accountId);
    assert.equal((await owner.get('/account')).statusCode, 200, 'the owner’s own session goes on');
  });
});
