import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { Browser, citizenWithPassword, lastCode, logIn, mailsFor, submitPassword } from '../support/login.ts';
import { onEachBackend } from '../support/suites.ts';

onEachBackend('login', ({ t }) => {
  test('NIR with spaces + password, send the code, submit it: /account shows the names; logout ends the session', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    const page = await b.get('/login');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Se connecter/);
    assert.match(page.body, /href="\/activate"[^>]*>Première connexion/);
    assert.match(page.body, /href="\/recover"[^>]*>Mot de passe oublié/);

    const spaced = `${c.nir.slice(0, 1)} ${c.nir.slice(1, 3)} ${c.nir.slice(3, 5)} ${c.nir.slice(5, 7)} ${c.nir.slice(7, 10)} ${c.nir.slice(10, 13)} ${c.nir.slice(13)}`;
    const flow = await submitPassword(b, { nir: spaced, password: c.password });
    const before = await b.get(flow);
    assert.match(before.body, /Envoyer le code/);
    const [local, domain] = c.email.split('@') as [string, string];
    assert.ok(before.body.includes(`${local[0]}***@${domain[0]}***.fr`), 'masked address shown');
    assert.ok(!before.body.includes(c.email), 'full address never shown');
    assert.equal((await mailsFor(t, c.accountId)).filter((m) => m.template === 'one-time-code').length, 0, 'nothing sent before the click');

    const sent = await b.post(`${flow}/send`, { method: 'email-code' });
    assert.equal(sent.statusCode, 303);
    const codePage = await b.get(flow);
    assert.match(codePage.body, /name="code"/);
    assert.match(codePage.body, /Ce code ne fonctionne que jusqu’à 10:15/, 'sent at 09:00 UTC = 10:00 Paris, valid 15 minutes');
    assert.match(codePage.body, /Renvoyer le code<\/button>/);
    assert.match(codePage.body, /<button class="fr-btn fr-btn--secondary" type="submit" disabled/, 'resend disabled during the cooldown');

    const done = await b.post(flow, { method: 'email-code', code: await lastCode(t, c.accountId) });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/account');
    const cookie = (done.cookies as { name: string; secure?: boolean; httpOnly?: boolean; sameSite?: string; path?: string }[]).find((k) => k.name === '__Host-sesame-session');
    assert.ok(cookie);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.path, '/');

    const account = await b.get('/account');
    assert.equal(account.statusCode, 200);
    assert.equal(account.headers['cache-control'], 'no-store, private');
    assert.ok(account.body.includes(`${c.givenNames} ${c.familyName}`));

    const session = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ level: string; amr: string[] }>(`SELECT level, amr FROM sessions WHERE account_id = $1`, [c.accountId])).rows);
    assert.deepEqual(session, [{ level: 'eidas1', amr: ['mail', 'pwd'] }]);

    const out = await b.post('/logout', {});
    assert.equal(out.statusCode, 303);
    assert.equal(out.headers.location, '/login?done=logged-out');
    const after = await b.get('/account');
    assert.equal(after.statusCode, 303);
    assert.equal(after.headers.location, '/login');
  });

  test('wrong password, unknown NIR and malformed NIR get the same page', async () => {
    const c = await citizenWithPassword(t);
    const answers = [];
    for (const [nir, password] of [
      [c.nir, 'not the right password'],
      ['299017599999977', 'whatever password here'],
      ['123', 'whatever password here'],
    ] as const) {
      const b = new Browser(t);
      b.ip = `198.51.100.${answers.length + 10}`;
      await b.get('/login');
      const res = await b.post('/login', { method: 'password', nir, password });
      answers.push({ status: res.statusCode, alert: /<div class="fr-alert fr-alert--error[\s\S]*?<\/div>/.exec(res.body)?.[0] });
    }
    assert.equal(answers[0]?.status, 401);
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(answers[2], answers[0]);
  });

  test('a first login from this browser sends a notification; the next one does not', async () => {
    const c = await citizenWithPassword(t);
    const b = new Browser(t);
    await logIn(b, c);
    await b.post('/logout', {}, (await b.get('/account')).body);
    await logIn(b, c);
    const notices = (await mailsFor(t, c.accountId)).filter((m) => m.template === 'new-browser-login');
    assert.equal(notices.length, 1);
    assert.equal(notices[0]?.params.place, null, 'no place for an address of no known country');
    const other = new Browser(t);
    other.ip = '90.0.0.1';
    await logIn(other, c);
    const both = (await mailsFor(t, c.accountId)).filter((m) => m.template === 'new-browser-login');
    assert.equal(both.length, 2);
    assert.ok(both.some((m) => m.params.place === 'France'), 'the approximate place, from the bundled country database');
  });
});
