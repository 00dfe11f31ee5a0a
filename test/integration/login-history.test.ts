import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loginMethodOf } from '../../src/account-area/security/login-history.ts';
import { placeFinder, describePlace } from '../../src/web/place.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

test('approximate place: a country from the bundled database, local networks named as such, nothing invented', () => {
  const places = placeFinder();
  assert.deepEqual(places.find('90.84.1.1'), { kind: 'found', country: 'FR', city: null });
  assert.deepEqual(places.find('::ffff:90.84.1.1'), { kind: 'found', country: 'FR', city: null });
  assert.deepEqual(places.find('127.0.0.1'), { kind: 'local' });
  assert.deepEqual(places.find('192.168.1.20'), { kind: 'local' });
  assert.deepEqual(places.find('not an ip'), { kind: 'unknown' });
  assert.deepEqual(places.find(null), { kind: 'unknown' });
  const labels = { local: 'local', unknown: 'unknown' };
  assert.equal(describePlace({ kind: 'found', country: 'FR', city: null }, 'fr', labels), 'France');
  assert.equal(describePlace({ kind: 'found', country: 'DE', city: 'Berlin' }, 'en', labels), 'Berlin, Germany');
});

test('the login method is the login’s own amr', () => {
  assert.equal(loginMethodOf(['mail', 'pwd']), 'password-email-code');
  assert.equal(loginMethodOf(['hwk', 'mfa', 'user']), 'passkey');
  assert.equal(loginMethodOf(['mfa', 'otp', 'pwd']), 'password-totp');
  assert.equal(loginMethodOf(['mfa', 'pwd', 'swk']), 'password-device');
  assert.equal(loginMethodOf([]), 'other');
});

onEachBackend('login history and ending one session', ({ t }) => {
  async function loggedIn(c: Awaited<ReturnType<typeof citizenWithPassword>>, ip: string, userAgent: string): Promise<Browser> {
    const b = new Browser(t);
    b.ip = ip;
    b.userAgent = userAgent;
    await logIn(b, c);
    return b;
  }

  test('each login is listed with its time, method, level, browser and approximate place, never its address', async () => {
    const c = await citizenWithPassword(t);
    await loggedIn(c, '8.8.8.8', SAFARI_IPHONE);
    const b = await loggedIn(c, '90.84.1.1', FIREFOX);
    const page = await b.get('/account/security');
    assert.equal(page.statusCode, 200);
    const history = page.body.slice(page.body.indexOf('id="login-history"'));
    assert.ok(history.length > 0);
    const rows = history.slice(0, history.indexOf('</table>')).split('<tr>').slice(2);
    assert.equal(rows.length, 2, 'two logins');
    assert.match(rows[0] ?? '', /Firefox/);
    assert.match(rows[0] ?? '', /France/);
    assert.match(rows[0] ?? '', /Mot de passe et code reçu par courriel/);
    assert.match(rows[0] ?? '', /Faible/);
    assert.match(rows[1] ?? '', /Safari/);
    assert.match(rows[1] ?? '', /États-Unis/);
    assert.ok(!page.body.includes('90.84.1.1') && !page.body.includes('8.8.8.8'), 'the address itself is never shown');
    b.headers['accept-language'] = 'en';
    const english = await b.get('/account/security');
    assert.match(english.body, /Login history/);
    assert.match(english.body, /United States/);
  });

  test('one other session can be ended; this one, an unknown id and another account’s session cannot', async () => {
    const c = await citizenWithPassword(t);
    const phone = await loggedIn(c, '90.84.1.1', SAFARI_IPHONE);
    const desk = await loggedIn(c, '90.84.1.2', FIREFOX);
    const other = await loggedIn(await citizenWithPassword(t), '90.84.1.3', FIREFOX);
    const ids = async (b: Browser): Promise<string[]> =>
      [...(await b.get('/account/security')).body.matchAll(/\/account\/security\/sessions\/([0-9a-f-]{36})\/end/g)].map((m) => m[1] ?? '');
    const [phoneSession] = await ids(desk);
    assert.ok(phoneSession, 'the other session has its button; this one has none');
    assert.equal((await ids(desk)).length, 1);
    const [desksSessionSeenFromPhone] = await ids(phone);
    assert.ok(desksSessionSeenFromPhone);

    // Another account's session id: the same 404 as an unknown one, and it stays open.
    await other.get('/account/security');
    const idor = await other.post(`/account/security/sessions/${desksSessionSeenFromPhone}/end`, {});
    assert.equal(idor.statusCode, 404);
    assert.equal((await desk.get('/account/security')).statusCode, 200);
    const unknown = await desk.post('/account/security/sessions/00000000-0000-4000-8000-000000000000/end', {});
    assert.equal(unknown.statusCode, 404);
    await desk.get('/account/security');
    const self = await desk.post(`/account/security/sessions/${desksSessionSeenFromPhone}/end`, {});
    assert.equal(self.statusCode, 404, 'this session is ended by logging out');

    await desk.get('/account/security');
    const ended = await desk.post(`/account/security/sessions/${phoneSession}/end`, {});
    assert.equal(ended.statusCode, 303);
    assert.equal(ended.headers.location, '/account/security?done=session-ended');
    const after = await phone.get('/account');
    assert.equal(after.statusCode, 303);
    assert.equal(after.headers.location, '/login');
    assert.equal((await desk.get('/account/security')).statusCode, 200);
  });
});
