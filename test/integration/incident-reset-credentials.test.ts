import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import type { TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { recover } from '../support/flows.ts';
import { Browser, citizenWithPassword, logIn, type Citizen } from '../support/login.ts';
import { operatorBench, rebind, saveTestCohort, type OperatorBench } from '../support/operator-bench.ts';
import { appCode, citizenWithApp, enrolApp } from '../support/totp.ts';

/**
 * `sesame incident reset-credentials --cohort`: for each account of the incident's latest
 * cohort, every session ends, the password stops logging in (the login says to choose a new
 * one with "Mot de passe oublié", and only to someone who typed it right), the authenticators
 * added in the window go and the older ones stay. Recovery then works. A re-run resets no one
 * twice: a citizen who recovered keeps their new session.
 */
type Reset = { reference: string; accounts: number; sessionsEnded: number; authenticatorsRemoved: number; alreadyReset: number };

const liveSessions = (t: TestApp, ids: string[]) =>
  system(t.deps.db, 'test', async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM sessions WHERE account_id = ANY($1::uuid[]) AND ended_at IS NULL`, [ids])).rows[0]?.n ?? 0);

const authenticatorsOf = (t: TestApp, accountId: string) =>
  system(t.deps.db, 'test', async (tx) => (await tx.query<{ created_at: Date; removed: boolean }>(`SELECT created_at, removed_at IS NOT NULL AS removed FROM authenticators WHERE account_id = $1 ORDER BY created_at`, [accountId])).rows);

async function passwordAnswer(t: TestApp, c: Pick<Citizen, 'nir' | 'password'>, ip: string): Promise<{ status: number; body: string }> {
  const b = new Browser(t);
  b.ip = ip;
  await b.get('/login');
  const res = await b.post('/login', { method: 'password', nir: c.nir, password: c.password });
  return { status: res.statusCode, body: res.body };
}

for (const backend of backends()) {
  describe(`sesame incident reset-credentials on ${backend.name}`, { skip: backend.skip }, () => {
    let bench: OperatorBench;
    before(async () => {
      bench = await operatorBench(backend, 'incident-reset');
      const opened = await bench.cli(['incident', 'open', '--title', 'Dossiers visibles par d’autres allocataires', '--detected-at', '2026-01-01T00:00:00Z']);
      assert.equal(opened.code, 0, opened.stderr);
    });
    after(() => bench.close());

    test('sessions end, the old password no longer logs in, authenticators added in the window go, older ones stay; recovery works; a re-run resets no one twice', async () => {
      const world = await bench.withApp(async (t) => {
        // Before the window: Alice's own app (past its cooling-off).
        const { c: alice, secret } = await citizenWithApp(t);
        const from = t.clock.now();
        t.clock.advance(60_000);
        // In the window: someone with her password and mailbox adds an app of their own,
        // through a step-up (so from a strong session: no cooling-off).
        const intruder = new Browser(t);
        intruder.ip = '192.0.2.66';
        await logIn(intruder, alice);
        const gate = await intruder.get('/account/security/totp/new');
        assert.equal(gate.statusCode, 303);
        const stepUp = String(gate.headers.location);
        assert.match(stepUp, /^\/step-up\//);
        await intruder.get(stepUp);
        assert.equal((await intruder.post(stepUp, { method: 'password', password: alice.password })).headers.location, stepUp);
        await intruder.get(`${stepUp}/totp`);
        t.clock.advance(1000);
        assert.equal((await intruder.post(`${stepUp}/totp`, { method: 'totp', code: appCode(secret, t.clock) })).statusCode, 303, 'step-up done');
        await enrolApp(intruder, 'Téléphone inconnu');
        const bob = await citizenWithPassword(t);
        const bobBrowser = new Browser(t);
        await logIn(bobBrowser, bob);
        const carol = await citizenWithPassword(t);
        const carolBrowser = new Browser(t);
        await logIn(carolBrowser, carol);
        const to = new Date(t.clock.now().getTime() + 60_000);
        await saveTestCohort(t, {
          from,
          to,
          members: [
            { accountId: alice.accountId, categories: ['file-changed', 'touched-by-others'] },
            { accountId: bob.accountId, categories: ['logged-in'] },
          ],
        });
        return { alice, bob, carol, intruder, bobBrowser, carolBrowser, sessions: await liveSessions(t, [alice.accountId, bob.accountId]) };
      });
      const { alice, bob, carol } = world;
      assert.ok(world.sessions >= 2);

      // Dry run: the counts, nothing changed, a step on the timeline.
      const dry = await bench.cli(['incident', 'reset-credentials', '--cohort', '--json']);
      assert.equal(dry.code, 0, dry.stderr);
      const planned = JSON.parse(dry.stdout) as Reset;
      assert.deepEqual(
        { accounts: planned.accounts, sessionsEnded: planned.sessionsEnded, authenticatorsRemoved: planned.authenticatorsRemoved, alreadyReset: planned.alreadyReset },
        { accounts: 2, sessionsEnded: world.sessions, authenticatorsRemoved: 1, alreadyReset: 0 },
      );
      const human = await bench.cli(['incident', 'reset-credentials', '--cohort']);
      assert.match(human.stdout, /2 accounts to reset/);
      assert.match(human.stdout, /dry run: nothing was changed\. Run again with --apply to do it: sesame incident reset-credentials --cohort --apply/);
      await bench.withApp(async (t) => {
        assert.equal((await rebind(world.intruder, t).get('/account')).statusCode, 200, 'a dry run ends nothing');
        assert.deepEqual((await authenticatorsOf(t, alice.accountId)).map((a) => a.removed), [false, false]);
      });

      const applied = await bench.cli(['incident', 'reset-credentials', '--cohort', '--apply', '--json']);
      assert.equal(applied.code, 0, applied.stderr);
      const done = JSON.parse(applied.stdout) as Reset;
      assert.deepEqual(
        { accounts: done.accounts, sessionsEnded: done.sessionsEnded, authenticatorsRemoved: done.authenticatorsRemoved, alreadyReset: done.alreadyReset },
        { accounts: 2, sessionsEnded: world.sessions, authenticatorsRemoved: 1, alreadyReset: 0 },
      );

      const recovered = 'une toute nouvelle phrase secrète';
      const afterRecovery = await bench.withApp(async (t) => {
        for (const gone of [world.intruder, world.bobBrowser]) {
          const res = await rebind(gone, t).get('/account');
          assert.equal(res.statusCode, 303, 'the session ended');
          assert.equal(res.headers.location, '/login');
        }
        assert.equal((await rebind(world.carolBrowser, t).get('/account')).statusCode, 200, 'outside the cohort, nothing changed');
        const reasons = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ end_reason: string }>(`SELECT DISTINCT end_reason FROM sessions WHERE account_id = ANY($1::uuid[]) AND ended_at > $2`, [[alice.accountId, bob.accountId], new Date(Date.now() - 600_000)])).rows);
        assert.deepEqual(reasons.map((r) => r.end_reason), ['incident-reset']);

        const [own, added] = await authenticatorsOf(t, alice.accountId);
        assert.equal(own?.removed, false, 'the app she had before the window stays');
        assert.equal(added?.removed, true, 'the app added in the window is removed');
        const codes = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM recovery_codes WHERE account_id = $1`, [alice.accountId])).rows[0]?.n);
        assert.equal(codes, 0, 'the recovery codes shown in the window are gone');

        // The old password: refused, and told to use recovery; a wrong one: the usual answer.
        const old = await passwordAnswer(t, alice, '198.51.100.10');
        assert.equal(old.status, 401);
        assert.match(old.body, /Nouveau mot de passe nécessaire/);
        assert.match(old.body, /Choisissez un nouveau mot de passe avec « Mot de passe oublié »/);
        const wrong = await passwordAnswer(t, { nir: alice.nir, password: 'pas le bon mot de passe' }, '198.51.100.11');
        assert.equal(wrong.status, 401);
        assert.doesNotMatch(wrong.body, /Nouveau mot de passe nécessaire|Mot de passe oublié »\./, 'a wrong password learns nothing of the reset');
        assert.match(wrong.body, /Le numéro de sécurité sociale ou le mot de passe est incorrect/);
        assert.equal((await passwordAnswer(t, bob, '198.51.100.12')).status, 401);
        assert.equal((await passwordAnswer(t, carol, '198.51.100.13')).status, 303, 'outside the cohort the password works');

        // Recovery sets a new password, which logs in.
        await recover(new Browser(t), alice, recovered);
        const back = new Browser(t);
        await logIn(back, { ...alice, password: recovered });
        assert.equal((await back.get('/account')).statusCode, 200);
        const audits = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ type: string; actor: string; payload: Record<string, unknown> }>(`SELECT type, actor, payload FROM audit_log WHERE account_id = $1 AND type IN ('incident.credentials-reset', 'authenticator.removed') ORDER BY seq`, [alice.accountId])).rows);
        assert.deepEqual(audits.map((a) => [a.type, a.actor]), [
          ['authenticator.removed', 'operator:oncall.martin'],
          ['incident.credentials-reset', 'operator:oncall.martin'],
        ]);
        assert.equal(audits[1]?.payload.authenticatorsRemoved, 1);
        assert.deepEqual(Object.keys(audits[1]?.payload ?? {}).sort(), ['authenticatorsRemoved', 'incidentId', 'sessionsEnded'], 'ids and counts only');
        return back;
      });

      // A re-run: no one reset twice; Alice's new session and password stay.
      const again = await bench.cli(['incident', 'reset-credentials', '--cohort', '--apply', '--json']);
      assert.equal(again.code, 0, again.stderr);
      const rerun = JSON.parse(again.stdout) as Reset;
      assert.deepEqual([rerun.accounts, rerun.sessionsEnded, rerun.authenticatorsRemoved, rerun.alreadyReset], [0, 0, 0, 2]);
      await bench.withApp(async (t) => {
        assert.equal((await rebind(afterRecovery, t).get('/account')).statusCode, 200, 'the citizen who recovered is not reset again');
        assert.equal((await passwordAnswer(t, { ...alice, password: recovered }, '198.51.100.14')).status, 303);
      });

      const status = JSON.parse((await bench.cli(['incident', 'status', '--json'])).stdout) as { timeline: { step: string; applied: boolean; summary: Record<string, unknown> }[] };
      const steps = status.timeline.filter((s) => s.step === 'reset-credentials');
      assert.deepEqual(steps.map((s) => [s.applied, s.summary.accounts, s.summary.alreadyReset]), [
        [false, 2, 0],
        [false, 2, 0],
        [true, 2, 0],
        [true, 0, 2],
      ]);
    });

    test('bad flags exit 2 naming the flag; an incident without a saved cohort fails with what to do', async () => {
      for (const [args, message] of [
        [[], /--cohort is required/],
        [['--cohort', '--colour', 'red'], /Unknown option '--colour'/],
        [['--cohort', '--apply', 'yes'], /unexpected extra argument/],
      ] as const) {
        const res = await bench.cli(['incident', 'reset-credentials', ...args]);
        assert.equal(res.code, 2, args.join(' '));
        assert.match(res.stderr, message);
      }
      const second = JSON.parse((await bench.cli(['incident', 'open', '--title', 'Autre incident', '--detected-at', '2026-02-01T00:00:00Z', '--json'])).stdout) as { reference: string };
      const none = await bench.cli(['incident', 'reset-credentials', '--cohort', '--incident', second.reference]);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /has no saved cohort: compute one with `sesame incident cohort/);
      const ambiguous = await bench.cli(['incident', 'reset-credentials', '--cohort']);
      assert.equal(ambiguous.code, 1);
      assert.match(ambiguous.stderr, /several incidents are open/);
    });
  });
}
