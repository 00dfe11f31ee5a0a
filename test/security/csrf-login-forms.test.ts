import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ManualClock } from '../../src/clock.ts';
import { openDatabase } from '../../src/db/open.ts';
import { CookieJar, csrfTokenIn, testApp } from '../support/app.ts';
import { forgedPost, postRoutes } from '../support/attack-requests.ts';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';
import { authState } from '../support/rules-db.ts';

/**
 * Cross-site request forgery on the login forms: a page elsewhere makes the citizen's browser
 * post our forms with the citizen's cookies (login CSRF, sending codes, burning the code's
 * attempts, logging out, changing the password). Every POST route of the login, activation,
 * recovery and account-security forms, as the app lists them, refuses with 403 a submission
 * without token, with another browser's token, or flagged cross-site / same-site by the
 * browser, and changes nothing (no audit event, flow, code, throttle, session, mail).
 */
const db = await openDatabase({ migrate: true });
const t = await testApp({ db, clock: new ManualClock() });
await t.app.ready();
after(async () => {
  await t.close();
  await db.close();
});

const FORMS = /^\/(login|logout|activate|recover|account)(\/|$)/;
const routes = postRoutes(t.app).filter((r) => FORMS.test(r));

// The victim: logged in, and with a live login flow of its own (a second login under way).
const victim = await citizenWithPassword(t);
const victimBrowser = new Browser(t);
await logIn(victimBrowser, victim);
const accountPage = (await victimBrowser.get('/account')).body;
const victimToken = csrfTokenIn(accountPage);
const again = await victimBrowser.post('/login', { method: 'password', nir: victim.nir, password: victim.password }, accountPage);
assert.equal(again.statusCode, 303);
const victimFlow = String(again.headers.location).slice('/login/'.length);

// The attacker: a browser of their own, with a perfectly valid token for it.
const attackerJar = new CookieJar();
const attackerPage = await t.app.inject({ url: '/login' });
attackerJar.store(attackerPage);
const attackerToken = csrfTokenIn(attackerPage.body);

function urlOf(pattern: string): string {
  return pattern.replace(':flow', pattern.startsWith('/login/') ? victimFlow : randomUUID());
}

function fieldsFor(pattern: string): Record<string, string> {
  if (pattern === '/login') return { method: 'password', nir: victim.nir, password: victim.password };
  if (pattern.endsWith('/send')) return { method: 'email-code' };
  if (/^\/(login|activate|recover)\/:flow$/.test(pattern)) return { method: 'email-code', code: '123456' };
  if (pattern === '/activate') return { method: 'email-code', nir: victim.nir, birthDate: '1985-07-14' };
  if (pattern === '/recover') return { method: 'email-code', nir: victim.nir };
  if (pattern === '/account/security/password') return { method: 'password', current: victim.password, password: 'a brand new passphrase 4242', confirm: 'a brand new passphrase 4242' };
  return {};
}

describe('the forms under attack', () => {
  test('the login forms are all there; activation, recovery and password change are checked when they exist', (ctx) => {
    for (const required of ['/login', '/login/:flow/send', '/login/:flow', '/logout']) assert.ok(routes.includes(required), `${required} is listed`);
    for (const optional of ['/activate', '/activate/:flow/send', '/activate/:flow', '/recover', '/recover/:flow/send', '/recover/:flow', '/account/security/password']) {
      if (!routes.includes(optional)) ctx.diagnostic(`POST ${optional} does not exist yet: not checked`);
    }
    ctx.diagnostic(`POST routes checked: ${routes.join(', ')}`);
    assert.ok(routes.length >= 4);
  });

  for (const pattern of routes) {
    test(`POST ${pattern}: 403 without token, with another browser’s token, cross-site or same-site; nothing changes`, async () => {
      const url = urlOf(pattern);
      const fields = fieldsFor(pattern);
      const before = await authState(db);
      const forgeries: [string, Parameters<typeof forgedPost>[2]][] = [
        ['no token', { jar: victimBrowser.jar, fields }],
        ['empty token', { jar: victimBrowser.jar, fields, token: '' }],
        ['another browser’s token', { jar: victimBrowser.jar, fields, token: attackerToken }],
        ['the right token, Sec-Fetch-Site: cross-site', { jar: victimBrowser.jar, fields, token: victimToken, headers: { 'sec-fetch-site': 'cross-site' } }],
        ['the right token, Sec-Fetch-Site: same-site', { jar: victimBrowser.jar, fields, token: victimToken, headers: { 'sec-fetch-site': 'same-site' } }],
        ['the attacker’s own cookie and token, cross-site', { jar: attackerJar, fields, token: attackerToken, headers: { 'sec-fetch-site': 'cross-site' } }],
      ];
      for (const [name, request] of forgeries) {
        const res = await forgedPost(t.app, url, request);
        assert.equal(res.statusCode, 403, `${name}: ${res.statusCode}`);
        assert.equal(res.headers.location, undefined, `${name}: no redirect`);
        assert.equal(
          [res.headers['set-cookie']].flat().filter((c) => c?.startsWith('__Host-sesame-session=')).length,
          0,
          `${name}: no session cookie set or cleared`,
        );
      }
      assert.deepEqual(await authState(db), before, 'nothing happened');
    });
  }

  test('controls: the same requests with the browser’s own token are not refused as forgeries', async () => {
    // /logout last: it ends the session the others need.
    const ordered = [...routes.filter((r) => r !== '/logout'), ...routes.filter((r) => r === '/logout')];
    for (const pattern of ordered) {
      const res = await forgedPost(t.app, urlOf(pattern), { jar: victimBrowser.jar, fields: fieldsFor(pattern), token: victimToken, headers: { 'sec-fetch-site': 'same-origin' } });
      assert.notEqual(res.statusCode, 403, `${pattern} answers ${res.statusCode} to a genuine submission`);
    }
  });
});
