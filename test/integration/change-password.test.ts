import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { Browser, citizenWithPassword, logIn, mailsFor, submitPassword, type Citizen } from '../support/login.ts';
import { onEachBackend } from '../support/suites.ts';

const CHROME_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

onEachBackend('change of password', ({ t }) => {
  const storedHash = (accountId: string): Promise<string | undefined> =>
    system(t.deps.db, 'test', async (tx) => (await tx.query<{ secret: string }>(`SELECT secret FROM credentials WHERE account_id = $1`, [accountId])).rows[0]?.secret);

  const liveSessions = (accountId: string): Promise<number> =>
    system(t.deps.db, 'test', async (tx) => (await tx.query(`SELECT id FROM sessions WHERE account_id = $1 AND ended_at IS NULL`, [accountId])).rows.length);

  const changeMails = async (accountId: string): Promise<Record<string, unknown>[]> =>
    (await mailsFor(t, accountId)).filter((m) => m.template === 'password-changed').map((m) => m.params);

  /** A citizen logged in from a new browser (its own address, so client throttles stay apart). */
  let ip = 0;
  async function loggedIn(c: Citizen, userAgent?: string): Promise<Browser> {
    const b = new Browser(t);
    b.ip = `192.0.2.${++ip}`;
    if (userAgent) b.userAgent = userAgent;
    await logIn(b, c);
    return b;
  }

  async function change(b: Browser, fields: { current: string; password: string; confirm?: string }, url = '/account/security') {
    await b.get(url);
    return b.post('/account/security/password', { method: 'password', current: fields.current, password: fields.password, confirm: fields.confirm ?? fields.password });
  }

  test('the page: change-password form with the current password, the sessions, no-store', async () => {
    const c = await citizenWithPassword(t);
    const b = await loggedIn(c);
    const home = await b.get('/account');
    assert.match(home.body, /href="\/account\/security"/);
    const page = await b.get('/account/security');
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['cache-control'], 'no-store, private');
    assert.match(page.body, /<h1>Sécurité du compte<\/h1>/);
    assert.match(page.body, /<form method="post" action="\/account\/security\/password"/);
    assert.match(page.body, /<input type="hidden" name="method" value="password">/);
    assert.match(page.body, /id="current" name="current" type="password" autocomplete="current-password"/);
    assert.match(page.body, /id="password" name="password" type="password" autocomplete="new-password"/);
    assert.match(page.body, /id="confirm" name="confirm" type="password" autocomplete="new-password"/);
    assert.match(page.body, /Aucune autre session n’est ouverte/);
    assert.doesNotMatch(page.body, /end-others/, 'no button when there is nothing to end');
  });

  test('the sessions list shows the browser of each session, marks the current one, never the address', async () => {
    const c = await citizenWithPassword(t);
    const firefox = await loggedIn(c);
    const chrome = await loggedIn(c, CHROME_ON_WINDOWS);
    const page = await firefox.get('/account/security');
    const table = page.body.slice(page.body.indexOf('<table id="sessions">'), page.body.indexOf('</table>', page.body.indexOf('<table id="sessions">')));
    const rows = [...table.matchAll(/<tr[^>]*>\s*<td>([\s\S]*?)<\/td>/g)].map((m) => m[1] ?? '');
    assert.equal(rows.length, 2);
    assert.match(rows[0] ?? '', /^Firefox 133 sur Linux <p class="fr-badge[^"]*">Cette session<\/p>$/, 'the current session first, marked');
    assert.equal(rows[1], 'Chrome 131 sur Windows 10');
    assert.match(page.body, /<tr aria-current="true">/);
    assert.match(page.body, /jeudi 15 janvier 2026 à 10:00/, 'times in the site’s zone');
    assert.match(page.body, /<td>Faible<\/td>/);
    assert.ok(!page.body.includes(firefox.ip) && !page.body.includes(chrome.ip), 'no IP address on the page');
    assert.match(page.body, /Déconnecter mes autres sessions/);

    const fromChrome = await chrome.get('/account/security?lang=en');
    assert.match(fromChrome.body, /Chrome 131 on Windows 10 <p class="fr-badge[^"]*">This session<\/p>/);
    assert.match(fromChrome.body, /<td>Firefox 133 on Linux<\/td>/);
  });

  test('a wrong current password is refused and changes nothing', async () => {
    const c = await citizenWithPassword(t);
    const b = await loggedIn(c);
    const other = await loggedIn(c);
    const before = await storedHash(c.accountId);
    const res = await change(b, { current: 'not my password at all', password: 'a brand new passphrase here' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /Le mot de passe actuel est incorrect\./);
    assert.match(res.body, /Le mot de passe n’a pas été changé/);
    assert.ok(!res.body.includes('not my password at all') && !res.body.includes('a brand new passphrase here'), 'passwords never sent back');
    assert.equal(await storedHash(c.accountId), before);
    assert.equal((await other.get('/account')).statusCode, 200, 'the other session goes on');
    assert.deepEqual(await changeMails(c.accountId), []);
  });

  test('a bad new password is refused in the user’s language and changes nothing', async () => {
    const c = await citizenWithPassword(t);
    const b = await loggedIn(c);
    const before = await storedHash(c.accountId);

    const short = await change(b, { current: c.password, password: 'short' });
    assert.equal(short.statusCode, 400);
    assert.match(short.body, /Le mot de passe doit comporter au moins 12 caractères\./);

    const mismatch = await change(b, { current: c.password, password: 'a brand new passphrase here', confirm: 'a brand new passphrase there' });
    assert.equal(mismatch.statusCode, 400);
    assert.match(mismatch.body, /Les deux mots de passe ne sont pas identiques\./);

    const nir = await change(b, { current: c.password, password: `my number ${c.nir} ok` });
    assert.equal(nir.statusCode, 400);
    assert.match(nir.body, /ne doit pas contenir votre numéro de sécurité sociale/);

    const same = await change(b, { current: c.password, password: c.password });
    assert.equal(same.statusCode, 400);
    assert.match(same.body, /doit être différent du mot de passe actuel/);

    const english = await change(b, { current: c.password, password: 'short' }, '/account/security?lang=en');
    assert.equal(english.statusCode, 400);
    assert.match(english.body, /The password must be at least 12 characters long\./);
    assert.match(english.body, /<html lang="en">/);
    const wrongEnglish = await change(b, { current: 'not my password at all', password: 'a brand new passphrase here' });
    assert.match(wrongEnglish.body, /The current password is incorrect\./);

    assert.equal(await storedHash(c.accountId), before);
    assert.deepEqual(await changeMails(c.accountId), []);
  });

  test('success: the other sessions end, this one stays, a mail is queued, only the new password works', async () => {
    const c = await citizenWithPassword(t);
    const b = await loggedIn(c);
    const other = await loggedIn(c, CHROME_ON_WINDOWS);
    const fresh = 'une phrase de passe toute neuve';

    const res = await change(b, { current: c.password, password: fresh });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/account/security?done=password-changed');
    const done = await b.get(String(res.headers.location));
    assert.equal(done.statusCode, 200);
    assert.match(done.body, /fr-alert--success[\s\S]*Votre mot de passe a été changé\. Vos autres sessions ont été fermées, ainsi que les accès des services/);
    assert.equal((await b.get('/account')).statusCode, 200, 'this session stays');

    const kicked = await other.get('/account');
    assert.equal(kicked.statusCode, 303);
    assert.equal(kicked.headers.location, '/login');
    const reasons = await system(t.deps.db, 'test', async (tx) =>
      (await tx.query<{ end_reason: string }>(`SELECT end_reason FROM sessions WHERE account_id = $1 AND ended_at IS NOT NULL`, [c.accountId])).rows.map((r) => r.end_reason),
    );
    assert.deepEqual(reasons, ['password-changed']);
    assert.equal(await liveSessions(c.accountId), 1);

    const mails = await changeMails(c.accountId);
    assert.equal(mails.length, 1);
    assert.deepEqual(mails[0], { at: t.clock.now().toISOString(), browser: 'Firefox 133', os: 'Linux', via: 'change' });

    const events = await system(t.deps.db, 'test', async (tx) =>
      (await tx.query<{ actor: string; payload: unknown }>(`SELECT actor, payload FROM audit_log WHERE account_id = $1 AND type = 'password.changed'`, [c.accountId])).rows,
    );
    assert.deepEqual(events, [{ actor: `citizen:${c.accountId}`, payload: { via: 'change', sessionsEnded: 1 } }]);

    const oldOne = new Browser(t);
    oldOne.ip = '192.0.2.250';
    await oldOne.get('/login');
    assert.equal((await oldOne.post('/login', { method: 'password', nir: c.nir, password: c.password })).statusCode, 401, 'old password refused');
    await submitPassword(oldOne, { nir: c.nir, password: fresh });
  });

  test('"end my other sessions" ends the others only', async () => {
    const c = await citizenWithPassword(t);
    const b = await loggedIn(c);
    const second = await loggedIn(c);
    const third = await loggedIn(c, CHROME_ON_WINDOWS);
    const someoneElse = await citizenWithPassword(t);
    const stranger = await loggedIn(someoneElse);
    const hash = await storedHash(c.accountId);

    await b.get('/account/security');
    const res = await b.post('/account/security/sessions/end-others', {});
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/account/security?done=sessions-ended');
    const page = await b.get(String(res.headers.location));
    assert.match(page.body, /Vos autres sessions ont été fermées, ainsi que les accès des services/);
    assert.match(page.body, /Aucune autre session n’est ouverte/);

    assert.equal((await second.get('/account')).statusCode, 303);
    assert.equal((await third.get('/account')).statusCode, 303);
    assert.equal((await b.get('/account')).statusCode, 200);
    assert.equal((await stranger.get('/account')).statusCode, 200, 'another account’s sessions are untouched');
    assert.equal(await liveSessions(c.accountId), 1);
    assert.equal(await storedHash(c.accountId), hash, 'the password is not touched');
  });

  test('without a session: GET and POST go to /login and change nothing', async () => {
    const c = await citizenWithPassword(t);
    const anonymous = new Browser(t);
    const get = await anonymous.get('/account/security');
    assert.equal(get.statusCode, 303);
    assert.equal(get.headers.location, '/login');

    const hash = await storedHash(c.accountId);
    await anonymous.get('/login');
    const post = await anonymous.post('/account/security/password', { method: 'password', current: c.password, password: 'a brand new passphrase here', confirm: 'a brand new passphrase here' });
    assert.equal(post.statusCode, 303);
    assert.equal(post.headers.location, '/login');
    const end = await anonymous.post('/account/security/sessions/end-others', {});
    assert.equal(end.statusCode, 303);
    assert.equal(end.headers.location, '/login');

    // A session that was ended (logged out elsewhere) is no session either.
    const b = await loggedIn(c);
    const other = await loggedIn(c);
    const page = (await b.get('/account/security')).body;
    await other.get('/account/security');
    await other.post('/account/security/sessions/end-others', {});
    const late = await b.post('/account/security/password', { method: 'password', current: c.password, password: 'a brand new passphrase here', confirm: 'a brand new passphrase here' }, page);
    assert.equal(late.statusCode, 303);
    assert.equal(late.headers.location, '/login');

    assert.equal(await storedHash(c.accountId), hash);
    assert.deepEqual(await changeMails(c.accountId), []);
  });

  test('a post without the method field or the CSRF token is refused', async () => {
    const c = await citizenWithPassword(t);
    const b = await loggedIn(c);
    const hash = await storedHash(c.accountId);
    await b.get('/account/security');
    const noMethod = await b.post('/account/security/password', { current: c.password, password: 'a brand new passphrase here', confirm: 'a brand new passphrase here' });
    assert.equal(noMethod.statusCode, 400);
    const forged = await t.app.inject({
      method: 'POST',
      url: '/account/security/password',
      cookies: b.jar.cookies(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ method: 'password', current: c.password, password: 'a brand new passphrase here', confirm: 'a brand new passphrase here' }).toString(),
    });
    assert.equal(forged.statusCode, 403);
    assert.equal(await storedHash(c.accountId), hash);
  });
});
