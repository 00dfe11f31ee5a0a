import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig, ConfigError } from '../../src/config.ts';
import { CSRF_COOKIE } from '../../src/web/csrf.ts';
import { argon2Hasher, PasswordVerifier } from '../../src/auth/methods/password.ts';
import { AccessClosedError, openAccess, readAccess } from '../../src/incident/access.ts';
import { passwordStep } from '../../src/auth/flows/login/password-step.ts';
import { captureLogs, PRODUCTION_ENV } from '../support/app.ts';
import { setBankDetails } from '../support/beneficiary-file.ts';
import { sesame } from '../support/cli.ts';
import { groupedIban, maskedIban, testIban } from '../support/french-ibans.ts';
import { Browser, citizenWithPassword, logIn, type Citizen } from '../support/login.ts';
import { onEachBackend, type AppSuite } from '../support/suites.ts';
import { formatNir } from '../../src/accounts/nir.ts';
import { placeFinder } from '../../src/web/place.ts';
import type { AuthDeps } from '../../src/auth/auth-deps.ts';

/**
 * The October 2021 incident, on purpose: SESAME_FAULT_INJECTION=wrong-session-account makes
 * the session-to-account lookup answer another active account. The tripwire must stop every
 * response of the account area (no other citizen's name or IBAN in any body, nothing changed),
 * audit and count each violation, and close citizen access at the threshold.
 */

const FAULT = { SESAME_FAULT_INJECTION: 'wrong-session-account' };
const NAMES = [
  { givenNames: 'Aurélie', familyName: 'Vasseur' },
  { givenNames: 'Bertrand', familyName: 'Quillec' },
  { givenNames: 'Chloé', familyName: 'Ravanel' },
];

interface Party {
  c: Citizen;
  iban: string;
  b: Browser;
}

async function parties(s: AppSuite, count: number, first = 0): Promise<Party[]> {
  const out: Party[] = [];
  for (let i = 0; i < count; i++) {
    const name = NAMES[i % NAMES.length] ?? { givenNames: 'Camille', familyName: 'Martin' };
    const c = await citizenWithPassword(s.t, { identity: { givenNames: name.givenNames, familyName: `${name.familyName}${first + i}` } });
    const iban = testIban(7000 + first + i);
    await setBankDetails(s.t, c.accountId, iban, `${c.givenNames} ${c.familyName}`);
    const b = new Browser(s.t);
    // Logging in does not use the session lookup: it works, and records the NIR typed.
    await logIn(b, c);
    out.push({ c, iban, b });
  }
  return out;
}

/** Everything of a citizen that must never show on another's page. */
const secretsOf = (p: Party): string[] => [p.c.familyName, p.c.nir, formatNir(p.c.nir), p.iban, groupedIban(p.iban), maskedIban(p.iban), p.c.email];

function assertStopped(res: LightMyRequestResponse, everyone: Party[], label: string): void {
  assert.equal(res.statusCode, 500, `${label}: answered ${res.statusCode}`);
  const reference = /id="incident-reference">([^<]+)</.exec(res.body)?.[1];
  assert.ok(reference, `${label}: the error page gives an incident reference`);
  for (const p of everyone) for (const secret of secretsOf(p)) assert.ok(!res.body.includes(secret), `${label}: a citizen's data left the server`);
}

const violationsAudited = async (s: AppSuite): Promise<{ payload: Record<string, unknown>; request_id: string }[]> =>
  (
    await s.tdb.superuser(`SELECT payload, request_id FROM audit_log WHERE type = 'isolation.violation' ORDER BY seq`)
  ).rows as { payload: Record<string, unknown>; request_id: string }[];

/** Every page of the account area, ids in the path replaced by a made-up one. */
function accountPages(s: AppSuite): string[] {
  const routes = s.t.app.isolation?.accountRoutes ?? [];
  const pages = routes.filter((r) => r.method === 'GET').map((r) => r.url.replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000'));
  assert.ok(pages.includes('/account') && pages.includes('/account/security'), 'the account area is walked');
  return [...new Set(pages)];
}

let logs = captureLogs('info');

onEachBackend(
  'wrong-session-account fault, below the threshold',
  () => ((logs = captureLogs('info')), { env: { ...FAULT, SESAME_TRIPWIRE_THRESHOLD: '1000' }, logger: logs.logger }),
  (s) => {
    test('every page of the account area is withheld: the incident page, no one’s data', async () => {
      const everyone = await parties(s, 3);
      const pages = accountPages(s);
      let requests = 0;
      for (const p of everyone) {
        for (const page of pages) {
          assertStopped(await p.b.get(page), everyone, `${page}`);
          requests++;
        }
      }
      // One audited violation per withheld response, ids and reason codes only.
      const audited = await violationsAudited(s);
      assert.equal(audited.length, requests);
      for (const a of audited) {
        assert.equal(a.payload.reason, 'login-identifier-mismatch');
        assert.deepEqual(Object.keys(a.payload).sort(), ['dataAccountId', 'inWindow', 'reason', 'sessionAccountId', 'sessionId']);
      }
      // The session was given another citizen's account; that is the account named as the data's.
      const owners = new Set(everyone.map((p) => p.c.accountId));
      for (const a of audited) assert.ok(owners.has(String(a.payload.dataAccountId)));
      const counted = (await s.tdb.superuser(`SELECT count(*)::int AS n FROM isolation_violations`)).rows[0] as { n: number };
      assert.equal(counted.n, requests);
      assert.equal((await readAccess(s.t.deps.db)).open, true, 'below the threshold, access stays open');
    });

    test('a form posted through the wrong account changes nothing of either account', async () => {
      const [a, b] = await parties(s, 2, 10);
      assert.ok(a && b);
      const live = async (accountId: string): Promise<number> =>
        ((await s.tdb.superuser(`SELECT count(*)::int AS n FROM sessions WHERE account_id = $1 AND ended_at IS NULL`, [accountId])).rows[0] as { n: number }).n;
      const before = [await live(a.c.accountId), await live(b.c.accountId)];
      // A valid CSRF token for this browser (no page of the area renders one under the fault).
      const secret = a.b.jar.get(CSRF_COOKIE);
      assert.ok(secret);
      const token = s.t.app.csrfSigner.token(secret);
      const res = await a.b.post('/account/security/sessions/end-others', {}, `<input type="hidden" name="_csrf" value="${token}">`);
      assertStopped(res, [a, b], 'end-others');
      assert.deepEqual([await live(a.c.accountId), await live(b.c.accountId)], before);
    });

    test('operators are told: error log lines and the metric, with no personal data', async () => {
      const lines = logs.lines().filter((l) => l.event === 'isolation.violation');
      assert.ok(lines.length > 0);
      for (const l of lines) assert.equal(l.level, 50, 'logged at error level');
      const text = JSON.stringify(logs.lines());
      for (const name of NAMES) assert.ok(!text.includes(name.familyName), 'a name in the logs');
      const metrics = await s.t.app.inject({ url: '/metrics' });
      const m = /sesame_isolation_violations_total\{reason="login-identifier-mismatch"\} (\d+)/.exec(metrics.body);
      assert.ok(m && Number(m[1]) > 0, 'the counter is exported');
    });
  },
);

onEachBackend(
  'wrong-session-account fault, at the threshold',
  () => ({ env: { ...FAULT, SESAME_TRIPWIRE_THRESHOLD: '3', SESAME_TRIPWIRE_WINDOW_SECONDS: '300', SESAME_ACCESS_CACHE_MS: '0' } }),
  (s) => {
    test('the third violation closes citizen access: maintenance page, logins refused; sesame access open reopens', async () => {
      const everyone = await parties(s, 2);
      const [a, b] = everyone;
      assert.ok(a && b);
      assertStopped(await a.b.get('/account'), everyone, '1st');
      assertStopped(await b.b.get('/account'), everyone, '2nd');
      assert.equal((await readAccess(s.t.deps.db)).open, true);
      assertStopped(await a.b.get('/account/security'), everyone, '3rd');

      const state = await readAccess(s.t.deps.db);
      assert.equal(state.open, false);
      assert.equal(state.changedBy, 'system:tripwire');
      const closed = await a.b.get('/account');
      assert.equal(closed.statusCode, 503);
      assert.ok(closed.headers['retry-after']);
      assert.match(closed.body, /Service momentanément indisponible/);
      assert.match(closed.body, /Service temporarily unavailable/);
      for (const p of everyone) for (const secret of secretsOf(p)) assert.ok(!closed.body.includes(secret));
      // Logins are refused at the door and in the password step itself.
      const fresh = new Browser(s.t);
      assert.equal((await fresh.get('/login')).statusCode, 503);
      const post = await s.t.app.inject({ method: 'POST', url: '/login', payload: 'method=password', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(post.statusCode, 503);
      const deps: AuthDeps = {
        db: s.t.deps.db,
        ring: s.t.deps.ring,
        clock: s.t.clock,
        policy: s.t.deps.config.auth,
        verifier: new PasswordVerifier(argon2Hasher(s.t.deps.config.auth.argon2)),
        timeZone: s.t.deps.config.timeZone,
        webauthn: s.t.deps.config.webauthn,
        places: placeFinder(),
      };
      const client = { ip: '192.0.2.1', userAgent: null, browser: null, os: null };
      await assert.rejects(passwordStep(deps, { nir: a.c.nir, password: a.c.password, client, csrfBinding: 'x', requestId: 'test' }), AccessClosedError);
      assert.equal((await s.t.app.inject({ url: '/healthz' })).statusCode, 200);
      const closings = (await s.tdb.superuser(`SELECT payload, actor FROM audit_log WHERE type = 'access.closed'`)).rows as { payload: { via: string }; actor: string }[];
      assert.deepEqual(closings, [{ payload: { via: 'tripwire', scope: 'citizens' }, actor: 'system:tripwire' }]);

      // Reopened by an operator: with the CLI on PostgreSQL (another process would do the same),
      // through the function the CLI calls on PGlite (its in-memory database is this process's).
      if (s.tdb.url) {
        const dir = await mkdtemp(path.join(tmpdir(), 'sesame-access-'));
        try {
          const r = await sesame(['access', 'open', '--apply'], { DATABASE_URL: s.tdb.url, SESAME_DATA_DIR: dir, LOG_LEVEL: 'silent', USER: 'oncall' });
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /citizen access: OPEN/);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      } else {
        await openAccess(s.t.deps.db, s.t.clock, { by: { kind: 'operator', name: 'oncall' } });
      }
      assert.equal((await s.t.app.inject({ url: '/' })).statusCode, 200);
      // The tripwire's close ended every citizen session: the parties must log in again.
      const ended = await s.tdb.superuser(`SELECT DISTINCT end_reason FROM sessions WHERE account_id = ANY($1::uuid[])`, [everyone.map((p) => p.c.accountId)]);
      assert.deepEqual(ended.rows, [{ end_reason: 'access-closed' }]);
      const loggedOut = await b.b.get('/account');
      assert.equal(loggedOut.statusCode, 303);
      assert.match(String(loggedOut.headers.location), /^\/login/);
      await logIn(b.b, b.c);
      // The fault is still there and the window still holds three: the next one closes again.
      assertStopped(await b.b.get('/account'), everyone, '4th');
      assert.equal((await readAccess(s.t.deps.db)).open, false);

      // Once the window has passed, it takes three again.
      s.t.clock.advance(301_000);
      await openAccess(s.t.deps.db, s.t.clock, { by: { kind: 'operator', name: 'oncall' } });
      for (const p of everyone) await logIn(p.b, p.c);
      assertStopped(await a.b.get('/account'), everyone, '5th');
      assertStopped(await b.b.get('/account'), everyone, '6th');
      assert.equal((await readAccess(s.t.deps.db)).open, true);
      assertStopped(await a.b.get('/account'), everyone, '7th');
      assert.equal((await readAccess(s.t.deps.db)).open, false);
      const history = (await s.tdb.superuser(`SELECT state, changed_by FROM citizen_access_history ORDER BY seq`)).rows;
      assert.deepEqual(history, [
        { state: 'closed', changed_by: 'system:tripwire' },
        { state: 'open', changed_by: 'operator:oncall' },
        { state: 'closed', changed_by: 'system:tripwire' },
        { state: 'open', changed_by: 'operator:oncall' },
        { state: 'closed', changed_by: 'system:tripwire' },
      ]);
    });
  },
);

test('the fault switch is refused in production, and unknown faults anywhere', () => {
  assert.throws(() => loadConfig({ ...PRODUCTION_ENV, ...FAULT }), (err: unknown) => err instanceof ConfigError && /SESAME_FAULT_INJECTION: refused in production/.test(err.message));
  assert.throws(() => loadConfig({ SESAME_FAULT_INJECTION: 'everything' }), /SESAME_FAULT_INJECTION: must be one of: wrong-session-account/);
  assert.equal(loadConfig({ ...FAULT }).isolation.faultInjection, 'wrong-session-account');
  assert.equal(loadConfig({}).isolation.faultInjection, null);
  assert.throws(() => loadConfig({ SESAME_TRIPWIRE_THRESHOLD: '0' }), /SESAME_TRIPWIRE_THRESHOLD: must be a whole number from 1/);
  assert.throws(() => loadConfig({ SESAME_ACCESS_CACHE_MS: '5000' }), /SESAME_ACCESS_CACHE_MS: must be a whole number from 0 to 1000/);
  assert.deepEqual(loadConfig({}).isolation.tripwire, { threshold: 3, windowSeconds: 300 });
});
