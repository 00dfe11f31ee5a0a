import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { CSRF_COOKIE, csrfField } from '../../src/web/csrf.ts';
import { html } from '../../src/web/html.ts';
import { sendPage } from '../../src/web/layout.ts';
import { CookieJar, captureLogs, csrfTokenIn, form, testApp, type TestApp } from '../support/app.ts';

/**
 * Cross-site request forgery: a page on another site makes the citizen's browser submit one
 * of our forms with the citizen's cookies. It cannot read our pages, so it cannot know the
 * token; every attempt to do without it, borrow it or forge it is refused.
 */
let db: OpenDatabase;
before(async () => {
  db = await openDatabase({ migrate: true });
});
after(() => db.close());

function addTestForm(app: FastifyInstance): void {
  app.get('/test/form', async (request, reply) =>
    sendPage(reply, {
      request,
      title: 'Test',
      main: html`<form method="post" action="/test/form">${csrfField(request, reply)}<input name="name"><button>OK</button></form>`,
    }),
  );
  const accept = async (request: { body: unknown }) => ({ accepted: (request.body as Record<string, string> | undefined)?.name ?? null });
  app.post('/test/form', accept);
  app.put('/test/form', accept);
  app.patch('/test/form', accept);
  app.delete('/test/form', accept);
  app.post('/test/back-channel', { config: { csrf: false } }, accept);
}

async function setup(options: Parameters<typeof testApp>[0] = {}): Promise<TestApp> {
  const t = await testApp({ db, ...options });
  addTestForm(t.app);
  return t;
}

/** A browser that loaded the form: its cookies and the token the page gave it. */
async function browserWithForm(app: FastifyInstance, headers: Record<string, string> = {}): Promise<{ jar: CookieJar; token: string }> {
  const jar = new CookieJar();
  const page = await app.inject({ url: '/test/form', headers, cookies: jar.cookies() });
  jar.store(page);
  return { jar, token: csrfTokenIn(page.body) };
}

function post(app: FastifyInstance, jar: CookieJar, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const f = form(fields);
  return app.inject({ method: 'POST', url: '/test/form', headers: { ...f.headers, ...headers }, payload: f.payload, cookies: jar.cookies() });
}

describe('the CSRF cookie and token', () => {
  test('the form page sets a __Host- cookie (Secure, HttpOnly, SameSite=Lax, Path=/) and a hidden field', async () => {
    const t = await setup();
    try {
      const page = await t.app.inject({ url: '/test/form' });
      const cookie = String(page.headers['set-cookie']);
      assert.match(cookie, new RegExp(`^${CSRF_COOKIE}=[A-Za-z0-9_-]{43};`));
      for (const attr of [/; Secure/, /; HttpOnly/, /; SameSite=Lax/, /; Path=\//]) assert.match(cookie, attr);
      assert.doesNotMatch(cookie, /Domain=/);
      const token = csrfTokenIn(page.body);
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(!cookie.includes(token), 'the token is not the cookie value');
    } finally {
      await t.close();
    }
  });

  test('a browser keeps its cookie; its token stays the same', async () => {
    const t = await setup();
    try {
      const { jar, token } = await browserWithForm(t.app);
      const again = await t.app.inject({ url: '/test/form', cookies: jar.cookies() });
      assert.equal(again.headers['set-cookie'], undefined);
      assert.equal(csrfTokenIn(again.body), token);
    } finally {
      await t.close();
    }
  });
});

describe('forged submissions are refused', () => {
  test('a genuine submission is accepted', async () => {
    const t = await setup();
    try {
      const { jar, token } = await browserWithForm(t.app);
      const res = await post(t.app, jar, { _csrf: token, name: 'Camille' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { accepted: 'Camille' });
    } finally {
      await t.close();
    }
  });

  test('no token: 403 with a page in the citizen’s language', async () => {
    const logs = captureLogs();
    const t = await setup({ logger: logs.logger });
    try {
      const { jar } = await browserWithForm(t.app);
      const fr = await post(t.app, jar, { name: 'Camille' });
      assert.equal(fr.statusCode, 403);
      assert.match(fr.headers['content-type'] as string, /^text\/html/);
      assert.match(fr.body, /<html lang="fr">/);
      assert.match(fr.body, /Le formulaire a expiré ou ne vient pas de ce site\. Rechargez la page et recommencez\./);
      assert.ok(!fr.body.includes('Camille'), 'nothing of the submission is echoed');

      const en = await post(t.app, jar.set('__Host-sesame-lang', 'en'), { name: 'Camille' });
      assert.equal(en.statusCode, 403);
      assert.match(en.body, /<html lang="en">/);
      assert.match(en.body, /The form has expired or does not come from this site\. Reload the page and try again\./);

      assert.ok(logs.lines().some((l) => l.event === 'csrf-rejected' && l.route === '/test/form'), 'the refusal is logged');
    } finally {
      await t.close();
    }
  });

  test('no cookie (the attacker’s own token, the victim’s browser)', async () => {
    const t = await setup();
    try {
      const attacker = await browserWithForm(t.app);
      const res = await post(t.app, new CookieJar(), { _csrf: attacker.token, name: 'x' });
      assert.equal(res.statusCode, 403);
    } finally {
      await t.close();
    }
  });

  test('a token from another browser does not go with this browser’s cookie', async () => {
    const t = await setup();
    try {
      const attacker = await browserWithForm(t.app);
      const victim = await browserWithForm(t.app);
      assert.notEqual(attacker.token, victim.token);
      const res = await post(t.app, victim.jar, { _csrf: attacker.token, name: 'x' });
      assert.equal(res.statusCode, 403);
    } finally {
      await t.close();
    }
  });

  test('forged tokens: random, empty, the cookie itself, an HMAC under another key, a near miss', async () => {
    const t = await setup();
    try {
      const { jar, token } = await browserWithForm(t.app);
      const secret = jar.get(CSRF_COOKIE) ?? '';
      const otherKey = createHmac('sha256', randomBytes(32)).update(`csrf\u0000${secret}`).digest('base64url');
      const nearMiss = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
      for (const forged of [randomBytes(32).toString('base64url'), '', secret, otherKey, nearMiss, token.slice(1), `${token}A`]) {
        const res = await post(t.app, jar, { _csrf: forged, name: 'x' });
        assert.equal(res.statusCode, 403, `forged token ${JSON.stringify(forged)}`);
      }
    } finally {
      await t.close();
    }
  });

  test('a cookie planted by the attacker with its own token still needs this server’s key', async () => {
    const t = await setup();
    try {
      const planted = new CookieJar().set(CSRF_COOKIE, 'a'.repeat(43));
      const guessed = createHmac('sha256', Buffer.alloc(32)).update(`csrf\u0000${'a'.repeat(43)}`).digest('base64url');
      const res = await post(t.app, planted, { _csrf: guessed });
      assert.equal(res.statusCode, 403);
    } finally {
      await t.close();
    }
  });

  test('PUT, PATCH and DELETE are checked too; GET is not', async () => {
    const t = await setup();
    try {
      const { jar, token } = await browserWithForm(t.app);
      for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
        const f = form({ name: 'x' });
        const refused = await t.app.inject({ method, url: '/test/form', headers: f.headers, payload: f.payload, cookies: jar.cookies() });
        assert.equal(refused.statusCode, 403, method);
        const accepted = await t.app.inject({ method, url: '/test/form', headers: { ...f.headers, 'x-csrf-token': token }, payload: f.payload, cookies: jar.cookies() });
        assert.equal(accepted.statusCode, 200, method);
      }
      assert.equal((await t.app.inject({ url: '/test/form' })).statusCode, 200);
    } finally {
      await t.close();
    }
  });

  test('a JSON request from our own scripts passes the token in X-CSRF-Token', async () => {
    const t = await setup();
    try {
      const { jar, token } = await browserWithForm(t.app);
      const body = { name: 'json' };
      const ok = await t.app.inject({ method: 'POST', url: '/test/form', payload: body, headers: { 'x-csrf-token': token }, cookies: jar.cookies() });
      assert.equal(ok.statusCode, 200);
      const refused = await t.app.inject({ method: 'POST', url: '/test/form', payload: body, headers: { accept: 'application/json' }, cookies: jar.cookies() });
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.json<{ error: string }>().error, 'csrf_rejected');
    } finally {
      await t.close();
    }
  });

  test('only routes that opt out explicitly skip the check', async () => {
    const t = await setup();
    try {
      const f = form({ name: 'rp' });
      const res = await t.app.inject({ method: 'POST', url: '/test/back-channel', ...f });
      assert.equal(res.statusCode, 200);
    } finally {
      await t.close();
    }
  });
});
