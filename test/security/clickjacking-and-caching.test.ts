import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { DSFR_PREFIX } from '../../src/web/static.ts';
import { PRODUCTION_ENV, testApp, type TestApp } from '../support/app.ts';

/**
 * Framing (clickjacking), script injection, MIME sniffing, referrer leaks and caching of
 * personal pages by a browser or a shared proxy: every kind of response carries the headers
 * that stop them, whatever produced it.
 */
let db: OpenDatabase;
before(async () => {
  db = await openDatabase({ migrate: true });
});
after(() => db.close());

async function appWithTestRoutes(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await testApp({ db, env });
  t.app.get('/test/boom', async () => {
    throw new Error('boom');
  });
  t.app.get('/test/redirect', async (_request, reply) => reply.redirect('/'));
  t.app.post('/test/form', async () => 'accepted');
  return t;
}

interface Kind {
  name: string;
  request: InjectOptions;
  status: number;
  static?: boolean;
}

const KINDS: Kind[] = [
  { name: 'page', request: { url: '/' }, status: 200 },
  { name: 'page in English', request: { url: '/?lang=en' }, status: 200 },
  { name: '404 page', request: { url: '/no/such/page' }, status: 404 },
  { name: '500 page', request: { url: '/test/boom' }, status: 500 },
  { name: 'JSON', request: { url: '/healthz' }, status: 200 },
  { name: 'JSON error', request: { url: '/no/such', headers: { accept: 'application/json' } }, status: 404 },
  { name: 'metrics', request: { url: '/metrics' }, status: 200 },
  { name: 'redirect', request: { url: '/test/redirect' }, status: 302 },
  { name: 'malformed URL', request: { url: '/%zz' }, status: 400 },
  { name: 'CSRF refusal', request: { method: 'POST', url: '/test/form', payload: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, status: 403 },
  { name: 'static DSFR asset', request: { url: `${DSFR_PREFIX}dsfr.min.css` }, status: 200, static: true },
  { name: 'static font', request: { url: `${DSFR_PREFIX}fonts/Marianne-Bold.woff2` }, status: 200, static: true },
  { name: 'static asset of ours', request: { url: '/assets/sesame.css' }, status: 200, static: true },
  { name: 'missing static asset', request: { url: `${DSFR_PREFIX}nothing.css` }, status: 404 },
];

function assertProtected(res: LightMyRequestResponse, kind: string): void {
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /frame-ancestors 'none'/, kind);
  assert.match(csp, /default-src 'self'/, kind);
  assert.match(csp, /script-src 'self'(;|$)/, kind);
  assert.match(csp, /style-src 'self'(;|$)/, kind);
  assert.match(csp, /object-src 'none'/, kind);
  assert.match(csp, /base-uri 'none'/, kind);
  assert.match(csp, /form-action 'self'/, kind);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, kind);
  assert.equal(res.headers['x-frame-options'], 'DENY', kind);
  assert.equal(res.headers['x-content-type-options'], 'nosniff', kind);
  assert.equal(res.headers['referrer-policy'], 'no-referrer', kind);
  assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin', kind);
  assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin', kind);
  assert.match(String(res.headers['permissions-policy']), /camera=\(\)/, kind);
}

describe('every response', () => {
  test('forbids framing and inline script, and says nosniff and no-referrer', async () => {
    const t = await appWithTestRoutes();
    try {
      for (const kind of KINDS) {
        const res = await t.app.inject(kind.request);
        assert.equal(res.statusCode, kind.status, kind.name);
        assertProtected(res, kind.name);
      }
    } finally {
      await t.close();
    }
  });

  test('is no-store, private and varies by cookie unless it is a static asset, which is cached for good', async () => {
    const t = await appWithTestRoutes();
    try {
      for (const kind of KINDS) {
        const res = await t.app.inject(kind.request);
        const expected = kind.static ? 'public, max-age=31536000, immutable' : 'no-store, private';
        assert.equal(res.headers['cache-control'], expected, kind.name);
        if (!kind.static) assert.match(String(res.headers.vary), /\bCookie\b/, kind.name);
      }
    } finally {
      await t.close();
    }
  });

  test('a handler cannot make a page cacheable by mistake', async () => {
    const t = await appWithTestRoutes();
    try {
      t.app.get('/test/cacheable', async (_request, reply) => reply.header('cache-control', 'public, max-age=600').send('personal'));
      const res = await t.app.inject({ url: '/test/cacheable' });
      assert.equal(res.headers['cache-control'], 'no-store, private');
      assert.match(String(res.headers.vary), /\bCookie\b/);
    } finally {
      await t.close();
    }
  });
});

describe('HSTS', () => {
  test('is sent in production, on every kind of response', async () => {
    const t = await appWithTestRoutes(PRODUCTION_ENV);
    try {
      for (const kind of KINDS) {
        const res = await t.app.inject(kind.request);
        assert.equal(res.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains', kind.name);
        assertProtected(res, kind.name);
      }
    } finally {
      await t.close();
    }
  });

  test('is not sent in development (plain http on localhost)', async () => {
    const t = await appWithTestRoutes();
    try {
      for (const kind of KINDS) {
        const res = await t.app.inject(kind.request);
        assert.equal(res.headers['strict-transport-security'], undefined, kind.name);
      }
    } finally {
      await t.close();
    }
  });
});
