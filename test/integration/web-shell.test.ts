import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { DSFR_PREFIX } from '../../src/web/static.ts';
import { PRODUCTION_ENV, CookieJar, captureLogs, testApp } from '../support/app.ts';

const REQUEST_ID = /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/;

// One database for the file (nothing here writes to it); the readiness test opens its own.
let db: OpenDatabase;
before(async () => {
  db = await openDatabase({ migrate: true });
});
after(() => db.close());

describe('home page and layout', () => {
  test('is French by default, in the DSFR layout, without inline script or style', async () => {
    const t = await testApp({ db });
    try {
      const res = await t.app.inject({ url: '/' });
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] as string, /^text\/html; charset=utf-8/);
      assert.match(res.body, /<html lang="fr">/);
      assert.match(res.body, /<h1>Votre compte pour les services publics<\/h1>/);
      assert.match(res.body, /<p class="fr-logo">République<br>Française<\/p>/);
      assert.match(res.body, /<p class="fr-header__service-title">Sésame<\/p>/);
      assert.match(res.body, /<main id="content"/);
      assert.match(res.body, /<a class="fr-link" href="#content">Contenu<\/a>/);
      assert.match(res.body, /<footer class="fr-footer"/);
      assert.ok(res.body.includes(`href="${DSFR_PREFIX}dsfr.min.css"`));
      assert.ok(res.body.includes(`<script type="module" src="${DSFR_PREFIX}dsfr.module.min.js"></script>`));
      assert.doesNotMatch(res.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script is external');
      assert.doesNotMatch(res.body, /<style|\sstyle=/, 'no inline style');
    } finally {
      await t.close();
    }
  });

  test('shows the configured service name', async () => {
    const t = await testApp({ db, env: { SESAME_SERVICE_NAME: 'Mon compte <CAF>' } });
    try {
      const res = await t.app.inject({ url: '/' });
      assert.match(res.body, /<title>Mon compte &lt;CAF&gt;<\/title>/);
      assert.match(res.body, /Avec Mon compte &lt;CAF&gt;, vous vous connectez/);
    } finally {
      await t.close();
    }
  });
});

describe('language', () => {
  test('follows Accept-Language between French and English, French otherwise', async () => {
    const t = await testApp({ db });
    try {
      const cases: [string, string][] = [
        ['en-GB,en;q=0.9,fr;q=0.8', 'en'],
        ['fr-FR,fr;q=0.9,en;q=0.8', 'fr'],
        ['de-DE, en;q=0.5', 'en'],
        ['de-DE, en;q=0.4, fr;q=0.6', 'fr'],
        ['de, it', 'fr'],
        ['en;q=0, fr;q=0.1', 'fr'],
        ['*', 'fr'],
      ];
      for (const [header, lang] of cases) {
        const res = await t.app.inject({ url: '/', headers: { 'accept-language': header } });
        assert.match(res.body, new RegExp(`<html lang="${lang}">`), header);
      }
      const en = await t.app.inject({ url: '/', headers: { 'accept-language': 'en' } });
      assert.match(en.body, /<h1>Your account for public services<\/h1>/);
      assert.match(en.body, /hreflang="fr" lang="fr"[^>]*>Français<\/a>/);
    } finally {
      await t.close();
    }
  });

  test('?lang= switches the page and is remembered in a __Host- cookie', async () => {
    const t = await testApp({ db });
    try {
      const jar = new CookieJar();
      const switched = await t.app.inject({ url: '/?lang=en', headers: { 'accept-language': 'fr' } });
      assert.match(switched.body, /<html lang="en">/);
      const cookie = String(switched.headers['set-cookie']);
      assert.match(cookie, /^__Host-sesame-lang=en;/);
      for (const attr of [/; Secure/, /; HttpOnly/, /; SameSite=Lax/, /; Path=\//]) assert.match(cookie, attr);
      jar.store(switched);

      const next = await t.app.inject({ url: '/', headers: { 'accept-language': 'fr' }, cookies: jar.cookies() });
      assert.match(next.body, /<html lang="en">/, 'the cookie wins over Accept-Language');
      assert.equal(next.headers['set-cookie'], undefined, 'no cookie rewritten when nothing changes');

      const back = await t.app.inject({ url: '/?lang=fr', cookies: jar.cookies() });
      assert.match(back.body, /<html lang="fr">/);
      jar.store(back);
      assert.equal(jar.get('__Host-sesame-lang'), 'fr');

      const bogus = await t.app.inject({ url: '/?lang=de', headers: { 'accept-language': 'en' } });
      assert.match(bogus.body, /<html lang="en">/, 'an unknown language is ignored');
      assert.equal(bogus.headers['set-cookie'], undefined);
    } finally {
      await t.close();
    }
  });

  test('the switch is a plain relative link that keeps the rest of the query', async () => {
    const t = await testApp({ db });
    try {
      const res = await t.app.inject({ url: '/?flow=abc&lang=fr' });
      assert.match(res.body, /<a class="fr-btn fr-icon-translate-2" href="\?flow=abc&amp;lang=en" hreflang="en" lang="en"/);
      // A path that looks like another host cannot turn the link into an off-site one.
      const odd = await t.app.inject({ url: '//evil.example/x' });
      assert.match(odd.body, /href="\?lang=en" hreflang="en"/);
      assert.doesNotMatch(odd.body, /href="\/\/evil/);
    } finally {
      await t.close();
    }
  });
});

describe('error pages', () => {
  test('404 is a localised DSFR page, or JSON for clients that ask for it', async () => {
    const t = await testApp({ db });
    try {
      const fr = await t.app.inject({ url: '/nowhere' });
      assert.equal(fr.statusCode, 404);
      assert.match(fr.body, /<h1>Page non trouvée<\/h1>/);
      assert.match(fr.body, /Erreur 404/);
      assert.match(fr.body, /<a class="fr-btn" href="\/">Page d’accueil<\/a>/);

      const en = await t.app.inject({ url: '/nowhere', headers: { 'accept-language': 'en' } });
      assert.match(en.body, /<html lang="en">/);
      assert.match(en.body, /<h1>Page not found<\/h1>/);

      const json = await t.app.inject({ url: '/nowhere', headers: { accept: 'application/json' } });
      assert.equal(json.statusCode, 404);
      const body = json.json<{ error: string; reference: string }>();
      assert.equal(body.error, 'not_found');
      assert.match(body.reference, REQUEST_ID);
    } finally {
      await t.close();
    }
  });

  test('500 in production: an incident reference equal to the logged request id, no stack, no message', async () => {
    const logs = captureLogs();
    const t = await testApp({ db, env: PRODUCTION_ENV, logger: logs.logger });
    try {
      t.app.get('/boom', async () => {
        throw new Error('secret detail from table citizens');
      });
      const res = await t.app.inject({ url: '/boom' });
      assert.equal(res.statusCode, 500);
      assert.match(res.body, /<h1>Erreur inattendue<\/h1>/);
      const reference = /<span class="sesame-reference" id="incident-reference">([^<]+)<\/span>/.exec(res.body)?.[1];
      assert.ok(reference, 'the page shows a reference');
      assert.match(reference, REQUEST_ID);
      assert.doesNotMatch(res.body, /secret detail|citizens|at .*\.ts:\d+|sesame-stack/);

      const logged = logs.lines().find((l) => l.msg === 'request failed');
      assert.ok(logged, 'the error is logged');
      assert.equal(logged.reqId, reference);
      assert.equal(logged.reference, reference);
      assert.match(JSON.stringify(logged.err), /secret detail from table citizens/, 'the log keeps the detail');

      const json = await t.app.inject({ url: '/boom', headers: { accept: 'application/json' } });
      assert.equal(json.statusCode, 500);
      assert.deepEqual(Object.keys(json.json()).sort(), ['error', 'reference']);
      assert.equal(json.json<{ error: string }>().error, 'server_error');
    } finally {
      await t.close();
    }
  });

  test('500 in development shows the stack to the developer', async () => {
    const t = await testApp({ db });
    try {
      t.app.get('/boom', async () => {
        throw new Error('development detail');
      });
      const res = await t.app.inject({ url: '/boom', headers: { 'accept-language': 'en' } });
      assert.equal(res.statusCode, 500);
      assert.match(res.body, /<h1>Unexpected error<\/h1>/);
      assert.match(res.body, /<pre class="sesame-stack" tabindex="0">Error: development detail/);
    } finally {
      await t.close();
    }
  });

  test('validation errors and malformed URLs get a 400 page', async () => {
    const t = await testApp({ db, env: PRODUCTION_ENV });
    try {
      t.app.get('/needs-page', { schema: { querystring: { type: 'object', required: ['page'], properties: { page: { type: 'integer' } } } } }, async () => 'ok');
      const invalid = await t.app.inject({ url: '/needs-page?page=abc' });
      assert.equal(invalid.statusCode, 400);
      assert.match(invalid.body, /<h1>Demande incorrecte<\/h1>/);
      assert.doesNotMatch(invalid.body, /querystring\/page|must be integer/, 'no validator internals in production');

      const malformed = await t.app.inject({ url: '/%zz' });
      assert.equal(malformed.statusCode, 400);
      assert.match(malformed.body, /<h1>Demande incorrecte<\/h1>/);
    } finally {
      await t.close();
    }
  });
});

describe('health', () => {
  test('/healthz answers while the process runs; /readyz follows the database', async () => {
    const t = await testApp();
    try {
      const live = await t.app.inject({ url: '/healthz' });
      assert.equal(live.statusCode, 200);
      assert.match(live.headers['content-type'] as string, /^application\/json/);
      assert.deepEqual(live.json(), { status: 'ok' });

      const ready = await t.app.inject({ url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json(), { status: 'ok', database: 'ok' });

      await t.deps.db.close();
      const down = await t.app.inject({ url: '/readyz' });
      assert.equal(down.statusCode, 503);
      assert.deepEqual(down.json(), { status: 'unavailable', database: 'unreachable' });
      assert.deepEqual((await t.app.inject({ url: '/healthz' })).json(), { status: 'ok' });
    } finally {
      await t.close();
    }
  });
});

describe('metrics', () => {
  test('count requests by route template, never by raw URL', async () => {
    const t = await testApp({ db });
    try {
      t.app.get('/things/:id', async () => ({ ok: true }));
      await t.app.inject({ url: '/' });
      await t.app.inject({ url: '/things/123' });
      await t.app.inject({ url: '/things/456?email=someone@example.fr' });
      await t.app.inject({ url: '/missing/789' });

      const res = await t.app.inject({ url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
      const text = res.body;
      assert.match(text, /http_requests_total\{method="GET",route="\/",status_code="200"\} 1/);
      assert.match(text, /http_requests_total\{method="GET",route="\/things\/:id",status_code="200"\} 2/);
      assert.match(text, /http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1/);
      assert.match(text, /http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/things\/:id"\} \d/);
      assert.match(text, /http_request_duration_seconds_count\{method="GET",route="\/things\/:id"\} 2/);
      assert.match(text, /process_cpu_user_seconds_total/);
      // Names and labels only: a duration's digits may spell 456 by chance.
      const http = text
        .split('\n')
        .filter((l) => l.startsWith('http_'))
        .map((l) => l.replace(/\} .*$/, '}'))
        .join('\n');
      assert.doesNotMatch(http, /123|456|789|someone|missing/);
    } finally {
      await t.close();
    }
  });

  test('each app has its own counters', async () => {
    const a = await testApp({ db });
    const b = await testApp({ db });
    try {
      await a.app.inject({ url: '/healthz' });
      await a.app.inject({ url: '/healthz' });
      await b.app.inject({ url: '/healthz' });
      assert.match((await a.app.inject({ url: '/metrics' })).body, /route="\/healthz",status_code="200"\} 2/);
      assert.match((await b.app.inject({ url: '/metrics' })).body, /route="\/healthz",status_code="200"\} 1/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('with a token configured, only the scraper that presents it reads them', async () => {
    const token = 'metrics-scraper-token-0123456789abcdef';
    const t = await testApp({ db, env: { SESAME_METRICS_TOKEN: token } });
    try {
      for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${token}`, `Bearer ${token}x`]) {
        const res = await t.app.inject({ url: '/metrics', headers: authorization ? { authorization } : {} });
        assert.equal(res.statusCode, 401, String(authorization));
        assert.equal(res.headers['www-authenticate'], 'Bearer realm="metrics"');
        assert.doesNotMatch(res.body, /http_requests_total/);
      }
      const ok = await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.statusCode, 200);
      assert.match(ok.body, /http_requests_total/);
    } finally {
      await t.close();
    }
  });
});

describe('logs', () => {
  test('carry our request id, never the query string, and redact PII fields', async () => {
    const logs = captureLogs();
    const t = await testApp({ db, logger: logs.logger });
    try {
      t.app.get('/logs-something', async (request) => {
        request.log.info({ nir: '1 84 12 75 108 234 56', email: 'camille@example.fr', password: 'hunter2-very-secret', person: { email: 'other@example.fr' } }, 'citizen looked up');
        return { ok: true };
      });
      const res = await t.app.inject({ url: '/logs-something?lang=en&token=query-secret', headers: { 'x-request-id': 'chosen-by-client', cookie: 'session=cookie-secret' } });
      assert.equal(res.statusCode, 200);

      const lines = logs.lines();
      const text = JSON.stringify(lines);
      const custom = lines.find((l) => l.msg === 'citizen looked up');
      assert.ok(custom);
      assert.match(String(custom.reqId), REQUEST_ID, 'our id, not the client-chosen one');
      assert.equal(custom.nir, '[redacted]');
      assert.equal(custom.email, '[redacted]');
      assert.equal(custom.password, '[redacted]');
      for (const secret of ['108 234', 'camille@', 'hunter2', 'other@example.fr', 'query-secret', 'cookie-secret', 'chosen-by-client']) {
        assert.ok(!text.includes(secret), `${secret} must not be logged`);
      }

      const summary = lines.find((l) => l.msg === 'request');
      assert.ok(summary, 'one line per request');
      assert.equal(summary.reqId, custom.reqId);
      assert.equal(summary.path, '/logs-something');
      assert.equal(summary.route, '/logs-something');
      assert.equal(summary.statusCode, 200);
      assert.equal(lines.filter((l) => l.reqId === custom.reqId).length, 2, 'no other per-request line (Fastify’s dump request objects)');
    } finally {
      await t.close();
    }
  });
});

describe('static files', () => {
  test('serves the DSFR files pages use, and nothing else from the package', async () => {
    const t = await testApp({ db });
    try {
      const served: [string, RegExp][] = [
        ['dsfr.min.css', /^text\/css/],
        ['dsfr.module.min.js', /javascript/],
        ['utility/icons/icons.min.css', /^text\/css/],
        ['fonts/Marianne-Regular.woff2', /font\/woff2/],
        ['icons/system/close-line.svg', /^image\/svg\+xml/],
        ['favicon/favicon.svg', /^image\/svg\+xml/],
      ];
      for (const [file, type] of served) {
        const res = await t.app.inject({ url: DSFR_PREFIX + file });
        assert.equal(res.statusCode, 200, file);
        assert.match(res.headers['content-type'] as string, type, file);
      }
      for (const file of ['README.md', 'dsfr.css', 'dsfr.min.css.map', '../package.json', '..%2Fpackage.json', 'utility/utility.min.css']) {
        const res = await t.app.inject({ url: DSFR_PREFIX + file });
        assert.ok([403, 404].includes(res.statusCode), `${file} answered ${res.statusCode}`);
      }
      const own = await t.app.inject({ url: '/assets/sesame.css' });
      assert.equal(own.statusCode, 200);
      assert.match(own.headers['content-type'] as string, /^text\/css/);
    } finally {
      await t.close();
    }
  });
});
