import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { audit } from '../../src/audit/log.ts';
import { ManualClock } from '../../src/clock.ts';
import type { KeyRing } from '../../src/crypto/keyring.ts';
import type { OpenDatabase } from '../../src/db/open.ts';
import { system } from '../../src/db/contexts.ts';
import { appendEvent, cancelEvent } from '../../src/file/events.ts';
import { latestCohort } from '../../src/incident/cohort-store.ts';
import { computeCohort } from '../../src/incident/cohort.ts';
import { resolveIncident, timelineOf } from '../../src/incident/incidents.ts';
import { recordViolation } from '../../src/isolation/violations.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { cliWorkspace, type CliWorkspace } from '../support/cli-workspace.ts';
import { sesame } from '../support/cli.ts';
import { Browser, citizenWithPassword, logIn, type Citizen } from '../support/login.ts';

/**
 * `sesame incident cohort`: a small world built through the real paths (logins in a browser,
 * file events, the tripwire's violations, exports and password changes as their code audits
 * them) around a window [08:00, 12:00) on 2026-06-01, with something on each side of every
 * bound; then the command, whose members are asserted exactly, category by category.
 */
const FROM = '2026-06-01T08:00:00.000Z';
const TO = '2026-06-01T12:00:00.000Z';
const at = (hhmmss: string): string => `2026-06-01T${hhmmss}Z`;
const IBAN = 'FR7630006000011234567890189';
const NO_TRIP = { threshold: 1000, windowSeconds: 300 };

type Name = 'gone' | 'slack' | 'idle' | 'loggedOutAtFrom' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'j' | 'k' | 'l' | 'm' | 'n' | 'o' | 'p' | 'r' | 's';
const NAMES: Name[] = ['gone', 'slack', 'idle', 'loggedOutAtFrom', 'c', 'd', 'e', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'r', 's'];

interface CohortJson {
  reference: string;
  from: string;
  to: string;
  total: number;
  byCategory: Record<string, number>;
  excludedPasswordChanged: number;
  cohortId: string | null;
  members: string[];
}

for (const backend of backends()) {
  describe(`sesame incident cohort on ${backend.name}`, { skip: backend.skip }, () => {
    let ws: CliWorkspace;
    let env: NodeJS.ProcessEnv;
    let ring: KeyRing;
    let reference: string;
    const clock = new ManualClock(at('06:00:00'));
    const who = {} as Record<Name, Citizen>;
    const withDb = <T>(fn: (db: OpenDatabase) => Promise<T>): Promise<T> => ws.withDb(fn);
    const ids = (...names: Name[]): string[] => names.map((n) => who[n].accountId).sort();
    const nameOf = (id: string): string => NAMES.find((n) => who[n].accountId === id) ?? id;
    const names = (members: readonly string[]): string[] => members.map(nameOf).sort();
    const cohort = async (...extra: string[]): Promise<CohortJson> => {
      const r = await sesame(['incident', 'cohort', '--from', FROM, '--to', TO, ...extra, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as CohortJson;
    };

    before(async () => {
      ws = await cliWorkspace(backend, { prefix: 'sesame-cohort-', user: 'oncall.martin' });
      ({ env, ring } = ws);
      const opened = await sesame(['incident', 'open', '--title', 'Dossiers affichés à d’autres allocataires', '--detected-at', '2026-06-01T13:00:00Z', '--json'], env);
      assert.equal(opened.code, 0, opened.stderr);
      reference = (JSON.parse(opened.stdout) as { reference: string }).reference;

      const db = await ws.open();
      const t: TestApp = await testApp({ db, ring, clock });
      try {
        for (const n of NAMES) who[n] = await citizenWithPassword(t);
        const deps = { ring, clock };
        const loginAt = async (n: Name, time: string): Promise<Browser> => {
          clock.set(new Date(new Date(time).getTime() - 1000)); // logIn steps the clock by one second
          const b = new Browser(t);
          await logIn(b, who[n]);
          assert.equal(clock.now().toISOString(), new Date(time).toISOString());
          return b;
        };
        const browseAt = async (b: Browser, time: string): Promise<void> => {
          clock.set(time);
          assert.equal((await b.get('/account')).statusCode, 200);
        };
        const sessionOf = async (n: Name): Promise<string> => {
          const { rows } = await system(db, 'test', (tx) => tx.query<{ id: string }>(`SELECT id FROM sessions WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1`, [who[n].accountId]));
          assert.ok(rows[0]);
          return rows[0].id;
        };
        let holders = 0;
        const changeAt = (time: string, n: Name, actor: { kind: 'citizen' | 'agency'; id: string }, sessionId: string | null) => {
          clock.set(time);
          const holder = `Titulaire ${++holders}`;
          return system(db, 'test', (tx) =>
            appendEvent(tx, deps, { accountId: who[n].accountId, type: 'bank-details.changed', after: { iban: IBAN, holder }, actor, sessionId, level: sessionId ? 'eidas2' : null }),
          );
        };
        const passwordChangedAt = (time: string, n: Name, via: 'activation' | 'recovery' | 'change') => {
          clock.set(time);
          // As activation, recovery and the security page record it.
          return system(db, 'test', (tx) => audit(tx, clock, { type: 'password.changed', accountId: who[n].accountId, payload: { via, sessionsEnded: 0 } }));
        };
        const agency = { kind: 'agency', id: 'caf-75' } as const;

        // Before the window.
        const gone = await loginAt('gone', at('07:00:00'));
        const slack = await loginAt('slack', at('07:00:10'));
        const idle = await loginAt('idle', at('07:00:20'));
        const outAtFrom = await loginAt('loggedOutAtFrom', at('07:00:30'));
        const hChange = await changeAt(at('07:05:00'), 'h', agency, null);
        await browseAt(gone, at('07:10:00'));
        assert.equal((await gone.post('/logout', {})).statusCode, 303);
        await passwordChangedAt(at('07:20:00'), 'c', 'change');
        await passwordChangedAt(at('07:20:01'), 'd', 'activation');
        await passwordChangedAt(at('07:20:02'), 'o', 'recovery');
        await passwordChangedAt(at('07:20:03'), 'n', 'recovery');
        for (const time of ['07:25:00', '07:50:00']) for (const b of [slack, idle, outAtFrom]) await browseAt(b, at(time));
        await browseAt(idle, at('07:58:59.999')); // last seen more than a minute before the window
        await browseAt(slack, at('07:59:00.001')); // last seen less than a minute before: may have answered at 08:00
        await changeAt(at('07:59:59.999'), 'g', agency, null);

        // The window's first instant.
        await loginAt('d', FROM);
        await changeAt(FROM, 'f', agency, null);
        clock.set(FROM);
        assert.equal((await outAtFrom.post('/logout', {})).statusCode, 303);

        // Inside.
        await loginAt('c', at('09:00:00'));
        await changeAt(at('09:05:00'), 'c', { kind: 'citizen', id: who.c.accountId }, await sessionOf('c'));
        clock.set(at('09:10:00'));
        // An operator's compensation (what `incident cancel` writes) is not a change of the incident.
        await system(db, 'test', (tx) => cancelEvent(tx, deps, { accountId: who.h.accountId, eventId: hChange.id, actor: { kind: 'operator', id: 'oncall.martin' }, sessionId: null, level: null }));
        clock.set(at('09:15:00'));
        const exportSession = '00000000-0000-4000-8000-000000000001';
        await system(db, 'test', (tx) => audit(tx, clock, { type: 'file.exported', accountId: who.j.accountId, payload: { sessionId: exportSession, events: 0, procedures: 0, payments: 0 } }));
        await loginAt('k', at('09:30:00'));
        await loginAt('o', at('09:31:00'));
        await loginAt('r', at('09:32:00'));
        clock.set(at('09:40:00'));
        await recordViolation(db, clock, NO_TRIP, { reason: 'carried-other-account', sessionId: await sessionOf('k'), sessionAccountId: who.k.accountId, dataAccountId: who.l.accountId, requestId: 'req-1' });
        const oSession = await sessionOf('o');
        // O's session changes N's file as O, and P's file as P: both are another account's session.
        await changeAt(at('09:45:00'), 'n', { kind: 'citizen', id: who.o.accountId }, oSession);
        await changeAt(at('09:46:00'), 'p', { kind: 'citizen', id: who.p.accountId }, oSession);
        // R's session was opened with S's identifier (the 2021 mechanism).
        await system(db, 'test', (tx) =>
          tx.query(`UPDATE sessions SET login_nir_index = (SELECT nir_index FROM accounts WHERE id = $2) WHERE account_id = $1`, [who.r.accountId, who.s.accountId]),
        );
        await passwordChangedAt(at('10:00:00'), 'o', 'change');

        // The window's end, excluded.
        await loginAt('e', TO);
        await changeAt(TO, 'g', agency, null);
        clock.set(TO);
        await recordViolation(db, clock, NO_TRIP, { reason: 'carried-other-account', sessionId: await sessionOf('k'), sessionAccountId: who.k.accountId, dataAccountId: who.m.accountId, requestId: 'req-2' });
      } finally {
        await t.close();
        await db.close();
      }
    });
    after(() => ws?.close());

    test('each category holds exactly the accounts its rule names, bounds included; a dry run saves nothing', async () => {
      const all = await cohort();
      assert.deepEqual(Object.keys(all).sort(), ['byCategory', 'cohortId', 'excludedPasswordChanged', 'from', 'members', 'reference', 'to', 'total'].sort());
      assert.equal(all.reference, reference);
      assert.equal(all.from, FROM);
      assert.equal(all.to, TO);
      assert.equal(all.cohortId, null);
      assert.equal(all.excludedPasswordChanged, 0);
      assert.deepEqual(names(all.members), ['c', 'd', 'f', 'j', 'k', 'l', 'n', 'o', 'p', 'r', 'slack'].sort());
      assert.deepEqual(all.members, [...all.members].sort(), 'in account id order');
      assert.equal(all.total, 11);
      assert.deepEqual(all.byCategory, { 'logged-in': 5, 'file-read': 8, 'file-changed': 4, 'touched-by-others': 4 });

      const perCategory = await withDb((db) =>
        system(db, 'test', async (tx) => {
          const computed = await computeCohort(tx, { from: new Date(FROM), to: new Date(TO), excludePasswordChangedBefore: null, onlyTouchedByOthers: false });
          const of = (c: string) => computed.members.filter((m) => (m.categories as string[]).includes(c)).map((m) => nameOf(m.accountId)).sort();
          const saved = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM incident_cohorts`);
          return { loggedIn: of('logged-in'), read: of('file-read'), changed: of('file-changed'), touched: of('touched-by-others'), saved: saved.rows[0]?.n, c: computed.members.find((m) => m.accountId === who.c.accountId) };
        }),
      );
      // d logged in at 08:00:00.000 exactly; e at 12:00:00.000 (excluded end).
      assert.deepEqual(perCategory.loggedIn, ['c', 'd', 'k', 'o', 'r']);
      // slack was last seen 59.999 s before the window; idle 60.001 s before; loggedOutAtFrom ended at 08:00 exactly;
      // j exported; l's data was withheld from k's session by the tripwire (m's at 12:00: outside).
      assert.deepEqual(perCategory.read, ['c', 'd', 'j', 'k', 'l', 'o', 'r', 'slack']);
      // f changed at 08:00 exactly; g at 07:59:59.999 and 12:00; h only cancelled by an operator.
      assert.deepEqual(perCategory.changed, ['c', 'f', 'n', 'p']);
      // k and o are the sessions' own accounts, s the identifier typed: none of them had data exposed.
      assert.deepEqual(perCategory.touched, ['l', 'n', 'p', 'r']);
      assert.deepEqual(perCategory.c?.categories, ['file-changed', 'file-read', 'logged-in']);
      assert.equal(perCategory.saved, 0, 'a dry run saves no cohort');
    });

    test('--exclude-password-changed-before leaves out the accounts whose latest own password change is earlier; --only-touched-by-others keeps only the victims', async () => {
      const excluded = await cohort('--exclude-password-changed-before', FROM);
      // c (change) and n (recovery) changed before; d only activated; o changed again inside the window.
      assert.deepEqual(names(excluded.members), ['d', 'f', 'j', 'k', 'l', 'o', 'p', 'r', 'slack'].sort());
      assert.equal(excluded.excludedPasswordChanged, 2);
      assert.deepEqual(excluded.byCategory, { 'logged-in': 4, 'file-read': 7, 'file-changed': 2, 'touched-by-others': 3 });

      const earlier = await cohort('--exclude-password-changed-before', at('07:20:03'));
      assert.deepEqual(names(earlier.members), ['d', 'f', 'j', 'k', 'l', 'n', 'o', 'p', 'r', 'slack'].sort(), 'n changed at the bound itself: not before it');
      assert.equal(earlier.excludedPasswordChanged, 1);

      const touched = await cohort('--only-touched-by-others');
      assert.deepEqual(names(touched.members), ['l', 'n', 'p', 'r']);
      assert.equal(touched.total, 4);
      assert.deepEqual(touched.byCategory, { 'logged-in': 1, 'file-read': 2, 'file-changed': 2, 'touched-by-others': 4 });

      const both = await cohort('--only-touched-by-others', '--exclude-password-changed-before', '2026-06-01T10:00:00+02:00');
      assert.deepEqual(names(both.members), ['l', 'p', 'r']);
      assert.equal(both.excludedPasswordChanged, 1);
    });

    test('human output: counts by category and the --apply hint; --apply saves the cohort the next steps read', async () => {
      const dry = await sesame(['incident', 'cohort', '--from', '2026-06-01T10:00:00+02:00', '--to', TO, '--only-touched-by-others'], env);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, new RegExp(`^${reference}: accounts affected from ${FROM} to ${TO} \\(end excluded\\), only those touched by another account$`, 'm'));
      assert.match(dry.stdout, /^ {2}logged-in {10}1$/m);
      assert.match(dry.stdout, /^ {2}touched-by-others {2}4$/m);
      assert.match(dry.stdout, /^ {2}total {14}4 distinct accounts/m);
      assert.match(dry.stdout, new RegExp(`sesame incident cohort --incident ${reference} --from ${FROM} --to ${TO} --only-touched-by-others --apply$`, 'm'));
      assert.match(dry.stdout, /the cohort was not saved/);
      for (const id of ids(...NAMES)) assert.ok(!dry.stdout.includes(id), 'no account id in the human output');

      const applied = await sesame(['incident', 'cohort', '--from', FROM, '--to', TO, '--exclude-password-changed-before', FROM, '--apply', '--json'], env);
      assert.equal(applied.code, 0, applied.stderr);
      const doc = JSON.parse(applied.stdout) as CohortJson;
      assert.ok(doc.cohortId);
      const human = await sesame(['incident', 'cohort', '--from', FROM, '--to', TO, '--only-touched-by-others', '--apply'], env);
      assert.match(human.stdout, /^saved cohort [0-9a-f-]{36} \(4 accounts\)/m);

      await withDb((db) =>
        system(db, 'test', async (tx) => {
          const incident = await resolveIncident(tx, reference);
          const latest = await latestCohort(tx, incident);
          assert.ok(latest);
          assert.notEqual(latest.id, doc.cohortId, 'the newest one');
          assert.deepEqual(names(latest.members.map((m) => m.accountId)), ['l', 'n', 'p', 'r']);
          assert.deepEqual(latest.options, { excludePasswordChangedBefore: null, onlyTouchedByOthers: true });
          const first = await tx.query<{ account_id: string; categories: string[] }>(`SELECT account_id, categories FROM incident_cohort_members WHERE cohort_id = $1 ORDER BY account_id`, [doc.cohortId]);
          assert.deepEqual(first.rows.map((r) => r.account_id), doc.members);
          assert.deepEqual(first.rows.find((r) => r.account_id === who.r.accountId)?.categories, ['file-read', 'logged-in', 'touched-by-others']);
          const head = await tx.query<{ window_from: Date; window_to: Date; options: unknown; computed_by: string; members: number }>(`SELECT window_from, window_to, options, computed_by, members FROM incident_cohorts WHERE id = $1`, [doc.cohortId]);
          assert.deepEqual(head.rows[0], { window_from: new Date(FROM), window_to: new Date(TO), options: { excludePasswordChangedBefore: FROM, onlyTouchedByOthers: false }, computed_by: 'operator:oncall.martin', members: 9 });

          // Every run is a step of the timeline, dry runs included: counts and options, no account id.
          const steps = (await timelineOf(tx, incident)).filter((s) => s.kind === 'cohort');
          assert.deepEqual(steps.map((s) => s.applied), [false, false, false, false, false, false, true, true]);
          const savedStep = steps[6];
          assert.deepEqual(savedStep?.summary, {
            from: FROM,
            to: TO,
            excludePasswordChangedBefore: FROM,
            onlyTouchedByOthers: false,
            total: 9,
            byCategory: { 'logged-in': 4, 'file-read': 7, 'file-changed': 2, 'touched-by-others': 3 },
            excludedPasswordChanged: 2,
            cohortId: doc.cohortId,
          });
          const text = JSON.stringify(steps);
          for (const id of ids(...NAMES)) assert.ok(!text.includes(id), 'no account id in the timeline');
          const audited = await tx.query<{ actor: string; payload: { step: string; applied: boolean } }>(`SELECT actor, payload FROM audit_log WHERE type = 'incident.step' AND payload->>'step' = 'cohort' ORDER BY seq`);
          assert.equal(audited.rows.length, 8);
          assert.ok(audited.rows.every((r) => r.actor === 'operator:oncall.martin'));
        }),
      );
    });

    test('a wrong command line exits 2 naming the flag; no incident is exit 1', async () => {
      for (const [args, flag] of [
        [['--from', TO, '--to', FROM], /--from must be before --to/],
        [['--from', FROM, '--to', FROM], /--from must be before --to/],
        [['--from', FROM], /--to is required/],
        [['--to', TO], /--from is required/],
        [['--from', '2026-06-01 08:00', '--to', TO], /--from must be an instant with its offset/],
        [['--from', FROM, '--to', '2026-06-01T12:00:00'], /--to must be an instant with its offset/],
        [['--from', FROM, '--to', TO, '--exclude-password-changed-before', 'yesterday'], /--exclude-password-changed-before must be an instant/],
        [['--from', FROM, '--to', TO, '--only-touched'], /--only-touched/],
        [['--from', FROM, '--to', TO, '--apply=yes'], /--apply/],
      ] as const) {
        const r = await sesame(['incident', 'cohort', ...args], env);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, flag);
        assert.match(r.stderr, /Usage: sesame incident cohort --from/);
        assert.equal(r.stdout, '');
      }
      const unknown = await sesame(['incident', 'cohort', '--from', FROM, '--to', TO, '--incident', 'INC-1999-001'], env);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no incident INC-1999-001/);
      const help = await sesame(['incident', 'cohort', '--help'], env);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /--exclude-password-changed-before/);
    });
  });
}
