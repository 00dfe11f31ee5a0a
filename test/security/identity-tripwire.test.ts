import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { readAccount } from '../../src/accounts/accounts.ts';
import { citizenErrors } from '../../src/isolation/error-handler.ts';
import { carries, citizenRequest, IsolationViolationError } from '../../src/isolation/citizen-request.ts';
import { readAccess } from '../../src/incident/access.ts';
import { Browser, citizenWithPassword, logIn, type Citizen } from '../support/login.ts';
import { onEachBackend, type AppSuite } from '../support/suites.ts';

/**
 * The identity tripwire against a change of login identifier (the October 2021 incident: a
 * beneficiary's identifier came to name another beneficiary's file) and against pages that
 * would send another account's data: the response never leaves, the change never commits,
 * and the violation is audited and counted.
 */

const secretPhone = (): Buffer => randomBytes(24);

/** Routes a page of the account area could be: through citizenRequest, and some with a bug. */
function testRoutes(app: FastifyInstance, s: AppSuite, hooks: { midway?: (accountId: string) => Promise<void> }, seen: { rows: number }): void {
  const deps = s.t.deps;
  app.get('/test/tripwire/own', async (request, reply) => {
    const account = await citizenRequest(deps, request, (tx, session) => readAccount(tx, deps.ring, session.accountId));
    if (account) carries(request, account.id);
    return reply.type('text/plain').send(`${account?.identity.givenNames} ${account?.identity.familyName}`);
  });
  // The login identifier changes while the request runs (after the session lookup proved it).
  app.post('/test/tripwire/write-midway', async (request, reply) => {
    const session = await request.session();
    if (session) await hooks.midway?.(session.accountId);
    await citizenRequest(deps, request, async (tx, session) => {
      tx.send(`UPDATE accounts SET phone = $2, updated_at = now() WHERE id = $1`, [session.accountId, secretPhone()]);
      const account = await readAccount(tx, deps.ring, session.accountId);
      seen.rows += account ? 1 : 0;
      return account;
    });
    return reply.send('changed');
  });
  // A page that swallows the violation and answers anyway.
  app.get('/test/tripwire/caught', async (request, reply) => {
    const session = await request.session();
    if (session) await hooks.midway?.(session.accountId);
    try {
      await citizenRequest(deps, request, (tx, session) => readAccount(tx, deps.ring, session.accountId));
    } catch (err) {
      if (!(err instanceof IsolationViolationError)) throw err;
    }
    return reply.code(200).send('all is well');
  });
  // A bug (RLS off, a system context, a wrong id): another account's row ends up on the page.
  app.get<{ Querystring: { other: string } }>('/test/tripwire/carries-other', async (request, reply) => {
    await citizenRequest(deps, request, async () => undefined);
    carries(request, request.query.other);
    return reply.send(`data of ${request.query.other}`);
  });
  app.get<{ Querystring: { other: string } }>('/test/tripwire/carries-unproven', async (request, reply) => {
    carries(request, request.query.other);
    return reply.send('data read without the proof');
  });
  void app.register(async (child) => {
    child.setErrorHandler(citizenErrors);
    child.get('/test/tripwire/no-session', async (request) => citizenRequest(deps, request, async () => 'never'));
  });
}

const reference = (res: LightMyRequestResponse): string | undefined => /id="incident-reference">([^<]+)</.exec(res.body)?.[1];

async function audited(s: AppSuite, requestId: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await s.tdb.superuser(`SELECT payload, actor FROM audit_log WHERE type = 'isolation.violation' AND request_id = $1`, [requestId]);
  return rows[0] as Record<string, unknown> | undefined;
}

const changeIdentifier = (s: AppSuite, accountId: string): Promise<unknown> => s.tdb.superuser(`UPDATE accounts SET nir_index = $2 WHERE id = $1`, [accountId, randomBytes(32)]);

onEachBackend('identity tripwire', () => ({ env: { SESAME_TRIPWIRE_THRESHOLD: '1000' } }), (s) => {
  const hooks: { midway?: (accountId: string) => Promise<void> } = {};
  const seen = { rows: 0 };
  before(() => testRoutes(s.t.app, s, hooks, seen));

  async function loggedIn(): Promise<{ c: Citizen; b: Browser }> {
    const c = await citizenWithPassword(s.t, { identity: { givenNames: 'Inès', familyName: `Carvalho${randomBytes(3).toString('hex')}` } });
    const b = new Browser(s.t);
    await logIn(b, c);
    return { c, b };
  }

  test('a proven session reads its own file: the response leaves as it is', async () => {
    const { c, b } = await loggedIn();
    const res = await b.get('/test/tripwire/own');
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, `${c.givenNames} ${c.familyName}`);
    assert.equal(res.headers['cache-control'], 'no-store, private');
    assert.match(String(res.headers.vary), /Cookie/);
  });

  test('change of login identifier: the account area answers the incident page, audited', async () => {
    const { c, b } = await loggedIn();
    assert.equal((await b.get('/account')).statusCode, 200);
    await changeIdentifier(s, c.accountId);
    const res = await b.get('/account');
    assert.equal(res.statusCode, 500);
    assert.ok(!res.body.includes(c.familyName));
    const ref = reference(res);
    assert.ok(ref);
    const event = await audited(s, ref);
    assert.ok(event, 'audited under the reference shown');
    assert.equal(event.actor, 'system:tripwire');
    assert.deepEqual(event.payload, { reason: 'login-identifier-mismatch', sessionId: (event.payload as { sessionId: string }).sessionId, sessionAccountId: c.accountId, dataAccountId: c.accountId, inWindow: (event.payload as { inWindow: number }).inWindow });
  });

  test('identifier changed during the request: the write is rolled back and the page never sees a row', async () => {
    const { c, b } = await loggedIn();
    const phoneBefore = (await s.tdb.superuser(`SELECT phone, updated_at FROM accounts WHERE id = $1`, [c.accountId])).rows[0];
    hooks.midway = (accountId) => changeIdentifier(s, accountId).then(() => undefined);
    seen.rows = 0;
    try {
      const page = await b.get('/account'); // any page: for its CSRF token
      assert.equal(page.statusCode, 200);
      const res = await b.post('/test/tripwire/write-midway', {});
      assert.equal(res.statusCode, 500);
      assert.doesNotMatch(res.body, /changed/);
      assert.ok(reference(res));
      const event = await audited(s, reference(res) ?? '');
      assert.equal((event?.payload as { reason: string }).reason, 'login-identifier-mismatch');
    } finally {
      delete hooks.midway;
    }
    assert.equal(seen.rows, 0, 'fn got no row before the proof');
    assert.deepEqual((await s.tdb.superuser(`SELECT phone, updated_at FROM accounts WHERE id = $1`, [c.accountId])).rows[0], phoneBefore);
  });

  test('a page that catches the violation and answers 200 still sends only the incident page', async () => {
    const { b } = await loggedIn();
    hooks.midway = (accountId) => changeIdentifier(s, accountId).then(() => undefined);
    try {
      const res = await b.get('/test/tripwire/caught');
      assert.equal(res.statusCode, 500);
      assert.doesNotMatch(res.body, /all is well/);
      assert.ok(reference(res));
    } finally {
      delete hooks.midway;
    }
  });

  test('another account’s data on the page: withheld before it leaves (carried-other-account)', async () => {
    const { b } = await loggedIn();
    const victim = await citizenWithPassword(s.t);
    const res = await b.get(`/test/tripwire/carries-other?other=${victim.accountId}`);
    assert.equal(res.statusCode, 500);
    assert.ok(!res.body.includes(`data of ${victim.accountId}`));
    const event = await audited(s, reference(res) ?? '');
    assert.equal((event?.payload as { reason: string }).reason, 'carried-other-account');
    assert.equal((event?.payload as { dataAccountId: string }).dataAccountId, victim.accountId);
  });

  test('data carried without citizenRequest’s proof is withheld (carried-unproven)', async () => {
    const { c, b } = await loggedIn();
    const res = await b.get(`/test/tripwire/carries-unproven?other=${c.accountId}`);
    assert.equal(res.statusCode, 500);
    const event = await audited(s, reference(res) ?? '');
    assert.equal((event?.payload as { reason: string }).reason, 'carried-unproven');
  });

  test('the incident page in English, and JSON clients get the reference too', async () => {
    const { c, b } = await loggedIn();
    await changeIdentifier(s, c.accountId);
    b.headers['accept-language'] = 'en';
    const en = await b.get('/account');
    assert.equal(en.statusCode, 500);
    assert.match(en.body, /Unexpected error/);
    assert.ok(reference(en));
    b.headers.accept = 'application/json';
    const json = await b.get('/test/tripwire/own');
    assert.equal(json.statusCode, 500);
    const body = JSON.parse(json.body) as { error: string; reference: string };
    assert.equal(body.error, 'server_error');
    assert.ok(await audited(s, body.reference));
  });

  test('citizenRequest without a session sends the browser to /login', async () => {
    const res = await s.t.app.inject({ url: '/test/tripwire/no-session' });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/login');
  });

  test('below the threshold access stays open; every violation is in the shared count', async () => {
    const { rows } = await s.tdb.superuser(`SELECT count(*)::int AS n FROM isolation_violations`);
    assert.ok((rows[0] as { n: number }).n >= 6);
    assert.equal((await readAccess(s.t.deps.db)).open, true);
  });
});
