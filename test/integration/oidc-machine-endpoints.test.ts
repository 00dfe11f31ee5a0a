import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../src/clock.ts';
import { system } from '../../src/db/contexts.ts';
import { closeAccess, openAccess } from '../../src/incident/access.ts';
import { createClient } from '../../src/oidc/clients.ts';
import { machineEndpoint } from '../../src/oidc/machine-endpoints.ts';
import { OIDC_ROUTES } from '../../src/oidc/mount.ts';
import { OIDC_MACHINE_ENDPOINTS, OIDC_OPEN_WHILE_CLOSED } from '../../src/oidc/return-to.ts';
import { RawRoutes } from '../../src/web/raw-routes.ts';
import { captureLogs, testApp, type TestApp } from '../support/app.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import { freePort } from '../support/free-port.ts';

/**
 * The provider's server-to-server endpoints (token, userinfo, revocation, introspection, JWKS)
 * are served on a listening server before Fastify's router and hooks (src/web/raw-routes.ts,
 * src/oidc/machine-endpoints.ts), for speed. What a response gets from the hooks elsewhere,
 * it must still get there: security headers, no-store, our request id in the log line and in
 * the audit event, the metrics, the access gate; and inject() must answer the same.
 */
const OPERATOR = { kind: 'operator', name: 'oncall' } as const;
const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

test('the machine endpoints and the paths open while closed are all provider routes', () => {
  const routes = new Set<string>([...Object.values(OIDC_ROUTES), '/.well-known/openid-configuration', `${OIDC_ROUTES.end_session}/confirm`, `${OIDC_ROUTES.end_session}/success`]);
  for (const path of [...OIDC_MACHINE_ENDPOINTS, ...OIDC_OPEN_WHILE_CLOSED]) assert.ok(routes.has(path), path);
  for (const path of [OIDC_ROUTES.token, OIDC_ROUTES.userinfo, OIDC_ROUTES.revocation, OIDC_ROUTES.introspection, OIDC_ROUTES.jwks]) assert.ok(OIDC_MACHINE_ENDPOINTS.includes(path), path);
  // The authorization endpoint is a browser's: it keeps our pages, cookies and hooks.
  assert.ok(!OIDC_MACHINE_ENDPOINTS.includes(OIDC_ROUTES.authorization));
});

describe('the raw lane itself', () => {
  test('other paths go to Fastify; once closing, a raw route answers 503 and closes the connection', async () => {
    const lane = new RawRoutes();
    const seen: string[] = [];
    lane.add('/raw', async (_req, res) => {
      res.end('raw');
    });
    const server = lane.serverFactory((req, res) => {
      seen.push(req.url ?? '');
      res.end('fastify');
    }, {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      assert.equal(await (await fetch(`${base}/raw?x=1`)).text(), 'raw');
      assert.equal(await (await fetch(`${base}/raw/more`)).text(), 'fastify');
      assert.deepEqual(seen, ['/raw/more']);
      lane.closing();
      const res = await fetch(`${base}/raw`);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('connection'), 'close');
      assert.match(res.headers.get('cache-control') ?? '', /no-store/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    } finally {
      server.close();
    }
  });

  test('a machine endpoint that fails answers 500 server_error as JSON, with our headers, and reports the error with its request id', async () => {
    const lane = new RawRoutes();
    const errors: string[] = [];
    const handler = machineEndpoint({
      callback: () => {
        throw new Error('boom');
      },
      db: undefined as never, // the JWKS path never reads the access flag
      access: { cacheMs: 0, retryAfterSeconds: 60 },
      production: false,
      requestIds: new WeakMap(),
      onError: (_err, requestId) => errors.push(requestId),
    });
    lane.add(OIDC_ROUTES.jwks, handler);
    const server = lane.serverFactory((_req, res) => res.end(), {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${OIDC_ROUTES.jwks}`);
      assert.equal(res.status, 500);
      assert.deepEqual(await res.json(), { error: 'server_error' });
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(errors.length, 1);
      assert.match(errors[0] ?? '', /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    } finally {
      server.close();
    }
  });
});

for (const backend of backends()) {
  describe(`the OIDC machine endpoints on ${backend.name}`, { skip: backend.skip }, () => {
    let tdb: TestDatabase;
    let t: TestApp;
    let base: string;
    let logs: ReturnType<typeof captureLogs>;
    let machine: { clientId: string; secret: string };
    const fastifyHooks: string[] = [];

    before(async () => {
      tdb = await backend.open();
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      logs = captureLogs();
      t = await testApp({ db: tdb.db, logger: logs.logger, env: { SESAME_PUBLIC_URL: base, PORT: String(port) } });
      // Which requests went through Fastify's hooks.
      t.app.addHook('onRequest', async (request) => {
        fastifyHooks.push(request.url);
      });
      const created = await system(t.deps.db, 'test', (tx) =>
        createClient(tx, t.deps.ring, systemClock, { name: 'Machine', redirectUris: ['http://localhost:4020/cb'], scopes: 'openid', authMethod: 'client_secret_basic', clientCredentials: true }, 'operator:test'),
      );
      machine = { clientId: created.client.clientId, secret: created.secret ?? '' };
      await t.app.listen({ port, host: '127.0.0.1' });
    });
    after(async () => {
      await t.close();
      await tdb.close();
    });

    /** The request ids of the events of a type, once there are some: they are written in the background (audit.ts). */
    const auditedRequestIds = async (type: string): Promise<(string | null)[]> => {
      let ids: (string | null)[] = [];
      for (let i = 0; i < 50 && ids.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        ids = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ request_id: string | null }>(`SELECT request_id FROM audit_log WHERE type = $1`, [type])).rows.map((r) => r.request_id));
      }
      return ids;
    };

    const grant = (url = `${base}${OIDC_ROUTES.token}`): Promise<Response> =>
      fetch(url, { method: 'POST', headers: { authorization: basic(machine.clientId, machine.secret), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });

    test('a client-credentials grant is served without Fastify, with every header, one log line without the query, the metrics and the audit event under the same request id', async () => {
      fastifyHooks.length = 0;
      const res = await grant(`${base}${OIDC_ROUTES.token}?marker=not-for-logs`);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { access_token?: string; token_type?: string };
      assert.ok(body.access_token);
      assert.deepEqual(fastifyHooks, [], 'no Fastify hook ran');
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.match(res.headers.get('cache-control') ?? '', /no-store/);
      assert.match(res.headers.get('vary') ?? '', /Cookie/);
      assert.equal(res.headers.get('set-cookie'), null);

      const line = logs.lines().find((l) => l.msg === 'request' && l.path === OIDC_ROUTES.token);
      assert.ok(line, 'the request has its log line');
      assert.equal(line.statusCode, 200);
      assert.equal(line.route, OIDC_ROUTES.token);
      assert.equal(typeof line.reqId, 'string');
      assert.doesNotMatch(JSON.stringify(logs.lines()), /not-for-logs|Basic |access_token/);

      const metrics = await t.app.inject({ url: '/metrics' });
      assert.match(metrics.body, new RegExp(`http_requests_total\\{method="POST",route="${OIDC_ROUTES.token}",status_code="200"\\} 1`));

      assert.deepEqual(await auditedRequestIds('oidc.token-issued'), [line.reqId]);
    });

    test('a revocation through the lane is audited under its request id', async () => {
      const issued = (await (await grant()).json()) as { access_token: string };
      const res = await fetch(`${base}${OIDC_ROUTES.revocation}`, { method: 'POST', headers: { authorization: basic(machine.clientId, machine.secret), 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${issued.access_token}` });
      assert.equal(res.status, 200);
      const line = logs.lines().findLast((l) => l.msg === 'request' && l.path === OIDC_ROUTES.revocation);
      assert.ok(line);
      assert.deepEqual(await auditedRequestIds('oidc.token-revoked'), [line.reqId]);
    });

    test('a wrong secret gets the provider\'s invalid_client, through the same lane', async () => {
      const res = await fetch(`${base}${OIDC_ROUTES.token}`, { method: 'POST', headers: { authorization: basic(machine.clientId, 'wrong'), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error?: string }).error, 'invalid_client');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    });

    test('while citizen access is closed: token, userinfo and introspection answer 503 temporarily_unavailable as JSON, listening or injected; the JWKS and revocation stay open', async () => {
      await closeAccess(t.deps.db, t.clock, { by: OPERATOR, reason: 'INC-MACHINE' });
      try {
        await new Promise((resolve) => setTimeout(resolve, t.deps.config.isolation.accessCacheMs + 50));
        for (const path of [OIDC_ROUTES.token, OIDC_ROUTES.userinfo, OIDC_ROUTES.introspection]) {
          const listening = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
          const injected = await t.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' });
          assert.equal(listening.status, 503, path);
          assert.equal(injected.statusCode, 503, path);
          assert.equal(listening.headers.get('retry-after'), String(t.deps.config.isolation.maintenanceRetryAfter));
          assert.equal(injected.headers['retry-after'], String(t.deps.config.isolation.maintenanceRetryAfter));
          assert.equal(((await listening.json()) as { error?: string }).error, 'temporarily_unavailable');
          assert.equal(injected.json<{ error?: string }>().error, 'temporarily_unavailable');
          assert.match(listening.headers.get('cache-control') ?? '', /no-store/);
        }
        assert.equal((await fetch(`${base}${OIDC_ROUTES.jwks}`)).status, 200);
        const revoke = await fetch(`${base}${OIDC_ROUTES.revocation}`, { method: 'POST', headers: { authorization: basic(machine.clientId, machine.secret), 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=unknown' });
        assert.equal(revoke.status, 200);
      } finally {
        await openAccess(t.deps.db, t.clock, { by: OPERATOR });
      }
      await new Promise((resolve) => setTimeout(resolve, t.deps.config.isolation.accessCacheMs + 50));
      assert.equal((await grant()).status, 200);
    });

    test('injected, the token endpoint answers as it does listening (same handler, same headers)', async () => {
      fastifyHooks.length = 0;
      const res = await t.app.inject({ method: 'POST', url: OIDC_ROUTES.token, headers: { authorization: basic(machine.clientId, machine.secret), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' });
      assert.equal(res.statusCode, 200);
      assert.ok(res.json<{ access_token?: string }>().access_token);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(String(res.headers['cache-control']), /no-store/);
      assert.deepEqual(fastifyHooks, [OIDC_ROUTES.token], 'injected, it went through Fastify (the hook that the listening lane skips sees it)');
    });
  });
}
