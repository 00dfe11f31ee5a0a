import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { csrfField } from '../../src/web/csrf.ts';
import { html } from '../../src/web/html.ts';
import { CookieJar, csrfTokenIn, form, testApp, type TestApp } from '../support/app.ts';

/**
 * Defence in depth: even with a valid token (say, leaked through a screenshot or a log), a
 * submission that the browser itself labels as coming from another site is refused.
 */
let db: OpenDatabase;
before(async () => {
  db = await openDatabase({ migrate: true });
});
after(() => db.close());

async function setup(): Promise<{ t: TestApp; jar: CookieJar; token: string }> {
  const t = await testApp({ db });
  t.app.get('/test/form', async (request, reply) => reply.type('text/html').send(html`<form method="post">${csrfField(request, reply)}</form>`.toString()));
  t.app.post('/test/form', async () => ({ accepted: true }));
  const jar = new CookieJar();
  const page = await t.app.inject({ url: '/test/form' });
  jar.store(page);
  return { t, jar, token: csrfTokenIn(page.body) };
}

describe('Sec-Fetch-Site', () => {
  for (const site of ['cross-site', 'same-site']) {
    test(`${site}: refused with the localised 403 page, valid token or not`, async () => {
      const { t, jar, token } = await setup();
      try {
        const f = form({ _csrf: token });
        const res = await t.app.inject({
          method: 'POST',
          url: '/test/form',
          headers: { ...f.headers, 'sec-fetch-site': site, 'accept-language': 'en' },
          payload: f.payload,
          cookies: jar.cookies(),
        });
        assert.equal(res.statusCode, 403);
        assert.match(res.body, /<html lang="en">/);
        assert.match(res.body, /The form has expired or does not come from this site/);
      } finally {
        await t.close();
      }
    });
  }

  for (const site of ['same-origin', 'none', undefined]) {
    test(`${site ?? 'absent (older browsers)'}: accepted with a valid token`, async () => {
      const { t, jar, token } = await setup();
      try {
        const f = form({ _csrf: token });
        const headers: Record<string, string> = { ...f.headers };
        if (site) headers['sec-fetch-site'] = site;
        const res = await t.app.inject({ method: 'POST', url: '/test/form', headers, payload: f.payload, cookies: jar.cookies() });
        assert.equal(res.statusCode, 200);
      } finally {
        await t.close();
      }
    });
  }
});
